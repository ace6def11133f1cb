/* nbody: the Sun and the four giant planets under Newtonian gravity, integrated with a
 * symplectic Euler step (f64, with square roots); returns the total energy after 100 000
 * steps, scaled by 10^9 and truncated. Units: AU, years / (2 pi), solar masses. */
#include "kernel.h"

#define BODIES 5
#define PI 3.141592653589793
#define SOLAR_MASS (4.0 * PI * PI)
#define DAYS_PER_YEAR 365.24

struct body {
    double x, y, z, vx, vy, vz, mass;
};

static struct body bodies[BODIES];
KERNEL_PARAM int32_t nbody_steps = 100000;

/* Initial positions (AU), velocities (AU/day) and masses (solar masses) of the planets. */
static const double planets[4][7] = {
    {4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
     1.66007664274403694e-03, 7.69901118419740425e-03, -6.90460016972063023e-05,
     9.54791938424326609e-04},
    {8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
     -2.76742510726862411e-03, 4.99852801234917238e-03, 2.30417297573763929e-05,
     2.85885980666130812e-04},
    {1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
     2.96460137564761618e-03, 2.37847173959480950e-03, -2.96589568540237556e-05,
     4.36624404335156298e-05},
    {1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
     2.68067772490389322e-03, 1.62824170038242295e-03, -9.51592254519715870e-05,
     5.15138902046611451e-05},
};

static void reset(void) {
    bodies[0] = (struct body){0, 0, 0, 0, 0, 0, SOLAR_MASS};
    double px = 0, py = 0, pz = 0;
    for (int i = 0; i < 4; i++) {
        const double *p = planets[i];
        struct body *b = &bodies[i + 1];
        b->x = p[0];
        b->y = p[1];
        b->z = p[2];
        b->vx = p[3] * DAYS_PER_YEAR;
        b->vy = p[4] * DAYS_PER_YEAR;
        b->vz = p[5] * DAYS_PER_YEAR;
        b->mass = p[6] * SOLAR_MASS;
        px += b->vx * b->mass;
        py += b->vy * b->mass;
        pz += b->vz * b->mass;
    }
    /* The Sun moves so that total momentum is zero. */
    bodies[0].vx = -px / SOLAR_MASS;
    bodies[0].vy = -py / SOLAR_MASS;
    bodies[0].vz = -pz / SOLAR_MASS;
}

static void advance(double dt) {
    for (int i = 0; i < BODIES; i++) {
        struct body *a = &bodies[i];
        for (int j = i + 1; j < BODIES; j++) {
            struct body *b = &bodies[j];
            double dx = a->x - b->x, dy = a->y - b->y, dz = a->z - b->z;
            double d2 = dx * dx + dy * dy + dz * dz;
            double mag = dt / (d2 * __builtin_sqrt(d2));
            a->vx -= dx * b->mass * mag;
            a->vy -= dy * b->mass * mag;
            a->vz -= dz * b->mass * mag;
            b->vx += dx * a->mass * mag;
            b->vy += dy * a->mass * mag;
            b->vz += dz * a->mass * mag;
        }
    }
    for (int i = 0; i < BODIES; i++) {
        bodies[i].x += dt * bodies[i].vx;
        bodies[i].y += dt * bodies[i].vy;
        bodies[i].z += dt * bodies[i].vz;
    }
}

static double energy(void) {
    double e = 0;
    for (int i = 0; i < BODIES; i++) {
        const struct body *a = &bodies[i];
        e += 0.5 * a->mass * (a->vx * a->vx + a->vy * a->vy + a->vz * a->vz);
        for (int j = i + 1; j < BODIES; j++) {
            const struct body *b = &bodies[j];
            double dx = a->x - b->x, dy = a->y - b->y, dz = a->z - b->z;
            e -= a->mass * b->mass / __builtin_sqrt(dx * dx + dy * dy + dz * dz);
        }
    }
    return e;
}

int32_t nbody_run(void) {
    reset();
    int32_t steps = nbody_steps;
    for (int32_t s = 0; s < steps; s++) {
        advance(0.01);
    }
    return (int32_t)(energy() * 1e9);
}
