;;! multi_memory = false
;;! nan_canonicalization = true
;;! hogs_memory = false   # describes the test only
;; The configuration comments above are honoured: a second memory is rejected, and a NaN
;; computed from a NaN operand comes out canonical (on x86-64 and aarch64 the hardware
;; would otherwise keep the operand's payload).

(assert_invalid
  (module (memory 1) (memory 1))
  "multiple memories")

(module
  (func (export "nan_add") (result i32)
    (i32.reinterpret_f32 (f32.add (f32.const nan:0x200001) (f32.const 1.0))))
  (func (export "nan_mul64") (result i64)
    (i64.reinterpret_f64 (f64.mul (f64.const -nan:0x4000000000001) (f64.const 2.0)))))

(assert_return (invoke "nan_add") (i32.const 0x7fc00000))
(assert_return (invoke "nan_mul64") (i64.const 0x7ff8000000000000))
