double fabs(double), floor(double), ceil(double), sqrt(double), pow(double, double);
double log(double), log10(double), log2(double), exp(double), fmod(double, double);
double trunc(double), round(double);
#define isnan(x) __builtin_isnan(x)
#define isinf(x) __builtin_isinf(x)
#define HUGE_VAL __builtin_huge_val()
#define NAN __builtin_nan("")
#define INFINITY __builtin_inf()
