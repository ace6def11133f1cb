;; Issue #20's byte sieve: the primes below 2^20, one byte per number in a 1 MiB memory. Its
;; inner loop is the shape the issue quotes (compare, branch out, store, add, branch back),
;; written by hand because clang shapes its own sieve's loop differently (`sieve.c`).
(module
  (memory 16)
  (func (export "run") (result i32)
    (local $n i32) (local $i i32) (local $j i32) (local $count i32)
    i32.const 1048576 local.set $n
    ;; Every number is a candidate until marked.
    i32.const 0 i32.const 1 local.get $n memory.fill
    i32.const 2 local.set $i
    block $sieved
      loop $outer
        local.get $i local.get $i i32.mul local.get $n i32.ge_u br_if $sieved
        local.get $i i32.load8_u
        if
          local.get $i local.get $i i32.mul local.set $j
          block loop local.get $j local.get $n i32.ge_u br_if 1 local.get $j i32.const 0 i32.store8 local.get $j local.get $i i32.add local.set $j br 0 end end
        end
        local.get $i i32.const 1 i32.add local.set $i
        br $outer
      end
    end
    ;; Count what is left, from 2.
    i32.const 2 local.set $j
    block $counted
      loop $count_next
        local.get $j local.get $n i32.ge_u br_if $counted
        local.get $j i32.load8_u local.get $count i32.add local.set $count
        local.get $j i32.const 1 i32.add local.set $j
        br $count_next
      end
    end
    local.get $count))
