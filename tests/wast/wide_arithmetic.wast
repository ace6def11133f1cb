;;! wide_arithmetic = true
;; The wide-arithmetic proposal's operators, with results worked out by hand. A 128-bit value
;; is two i64s, low half first; results come back as (low, high).

(module
  (func (export "add128") (param i64 i64 i64 i64) (result i64 i64)
    (i64.add128 (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "sub128") (param i64 i64 i64 i64) (result i64 i64)
    (i64.sub128 (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "mul_wide_s") (param i64 i64) (result i64 i64)
    (i64.mul_wide_s (local.get 0) (local.get 1)))
  (func (export "mul_wide_u") (param i64 i64) (result i64 i64)
    (i64.mul_wide_u (local.get 0) (local.get 1))))

;; Carry out of the low half into the high half.
(assert_return (invoke "add128" (i64.const -1) (i64.const 0) (i64.const 1) (i64.const 0))
  (i64.const 0) (i64.const 1))
;; 2^128 - 1 + 1 wraps to 0.
(assert_return (invoke "add128" (i64.const -1) (i64.const -1) (i64.const 1) (i64.const 0))
  (i64.const 0) (i64.const 0))
;; No carry: the halves add on their own.
(assert_return (invoke "add128" (i64.const 1) (i64.const 2) (i64.const 3) (i64.const 4))
  (i64.const 4) (i64.const 6))
;; (2^127 - 1) + 1 = 2^127.
(assert_return (invoke "add128"
    (i64.const -1) (i64.const 0x7fffffffffffffff) (i64.const 1) (i64.const 0))
  (i64.const 0) (i64.const 0x8000000000000000))

;; Borrow from the high half.
(assert_return (invoke "sub128" (i64.const 0) (i64.const 1) (i64.const 1) (i64.const 0))
  (i64.const -1) (i64.const 0))
;; 0 - 1 wraps to 2^128 - 1.
(assert_return (invoke "sub128" (i64.const 0) (i64.const 0) (i64.const 1) (i64.const 0))
  (i64.const -1) (i64.const -1))
;; 2^127 - 1 = 2^127 - 1.
(assert_return (invoke "sub128"
    (i64.const 0) (i64.const 0x8000000000000000) (i64.const 1) (i64.const 0))
  (i64.const -1) (i64.const 0x7fffffffffffffff))

;; (2^64 - 1)^2 = 2^128 - 2^65 + 1.
(assert_return (invoke "mul_wide_u" (i64.const -1) (i64.const -1))
  (i64.const 1) (i64.const -2))
;; 2^32 * 2^32 = 2^64.
(assert_return (invoke "mul_wide_u" (i64.const 0x100000000) (i64.const 0x100000000))
  (i64.const 0) (i64.const 1))
;; -1 * -1 = 1 signed.
(assert_return (invoke "mul_wide_s" (i64.const -1) (i64.const -1))
  (i64.const 1) (i64.const 0))
;; -1 * 1 = -1 signed: all ones in both halves.
(assert_return (invoke "mul_wide_s" (i64.const -1) (i64.const 1))
  (i64.const -1) (i64.const -1))
;; MIN * MIN = 2^126.
(assert_return (invoke "mul_wide_s" (i64.const 0x8000000000000000) (i64.const 0x8000000000000000))
  (i64.const 0) (i64.const 0x4000000000000000))
;; MIN * MAX = -(2^126 - 2^63) = -2^126 + 2^63.
(assert_return (invoke "mul_wide_s" (i64.const 0x8000000000000000) (i64.const 0x7fffffffffffffff))
  (i64.const 0x8000000000000000) (i64.const 0xc000000000000000))
;; MIN * MIN unsigned = 2^126 too.
(assert_return (invoke "mul_wide_u" (i64.const 0x8000000000000000) (i64.const 0x8000000000000000))
  (i64.const 0) (i64.const 0x4000000000000000))
