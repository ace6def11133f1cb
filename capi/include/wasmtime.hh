/*
 * wasmtime.hh: a header-only C++17 API over wasmjit's C API.
 *
 * The classes and methods here have the names and signatures of the C++ API that Wasmtime 29
 * ships with its C API (`namespace wasmtime`: `Engine`, `Store`, `Module`, `Linker`, `Func`,
 * `Instance`, `Memory`, `Result<T>`, `Trap`, `Val`, ...), so a C++ program written for that
 * header compiles against this one and runs unchanged. Everything is implemented on top of
 * `wasmtime.h`; nothing here needs to be linked beyond `-lwasmjit`.
 *
 * Ownership in brief:
 * - `Config`, `Engine`, `Store`, `Linker`, `Module`, the `*Type` classes, `Error`, `Trap` and
 *   `Trace` own a C object and free it in their destructor.
 * - `Func`, `Global`, `Table`, `Memory`, `Instance`, `ExternRef` and `Val` are handles into a
 *   store: plain values, valid while their store lives, used together with a
 *   `Store::Context` (which a `Store&` or a `Caller&` converts to implicitly).
 * - An `externref` stays alive while the store that made it lives (or until
 *   `ExternRef::unroot`); copying an `ExternRef` or a `Val` copies the handle.
 *
 * Host functions may throw: a C++ exception leaving a host function becomes a trap carrying
 * the exception's message instead of unwinding through the runtime.
 */

#ifndef WASMTIME_HH
#define WASMTIME_HH

#include <wasmtime.h>

#include <algorithm>
#include <any>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>
#ifdef __cpp_lib_span
#include <span>
#endif

namespace wasmtime {

/* ---- Span ------------------------------------------------------------------------------ */

#ifdef __cpp_lib_span

/// A view of contiguous elements: `std::span` when the standard library has it.
template <typename T, std::size_t Extent = std::dynamic_extent>
using Span = std::span<T, Extent>;

#else

/// Marks a `Span` whose length is only known at run time (the only kind provided).
inline constexpr std::size_t dynamic_extent = std::numeric_limits<std::size_t>::max();

/// A pointer and a length: the C++17 stand-in for `std::span`.
template <typename T, std::size_t Extent = dynamic_extent> class Span {
  T *ptr_ = nullptr;
  std::size_t len_ = 0;

public:
  /// Iterators are plain pointers.
  using iterator = T *;
  /// The element type.
  using element_type = T;
  /// The element type without `const`.
  using value_type = std::remove_cv_t<T>;

  /// An empty view.
  Span() = default;
  /// `n` elements starting at `t`.
  Span(T *t, std::size_t n) : ptr_(t), len_(n) {}
  /// The elements of a contiguous container (anything with `data()` and `size()` whose
  /// `data()` converts to `T *`, e.g. `std::vector<T>` or `std::array<T, N>`).
  template <typename C,
            std::enable_if_t<std::is_convertible_v<decltype(std::declval<C &>().data()), T *>,
                             bool> = true>
  Span(C &range) : ptr_(range.data()), len_(range.size()) {}
  /// A view of `const T` from a view of `T`.
  template <typename U, std::size_t E,
            std::enable_if_t<std::is_convertible_v<U (*)[], T (*)[]>, bool> = true>
  Span(const Span<U, E> &other) : ptr_(other.data()), len_(other.size()) {}

  /// The element at `idx` (not bounds-checked).
  T &operator[](std::ptrdiff_t idx) const { return ptr_[idx]; }
  /// The first element's address.
  T *data() const { return ptr_; }
  /// How many elements the view holds.
  std::size_t size() const { return len_; }
  /// The view's size in bytes.
  std::size_t size_bytes() const { return len_ * sizeof(T); }
  /// Whether the view is empty.
  bool empty() const { return len_ == 0; }
  /// Start of iteration.
  iterator begin() const { return ptr_; }
  /// End of iteration.
  iterator end() const { return ptr_ + len_; }
};

#endif

/* ---- Errors and traps ------------------------------------------------------------------- */

class Trace;

/// A WebAssembly frame of a `Trace`: which function was running, and where.
class FrameRef {
  const wasm_frame_t *frame_;

public:
  /// Wraps a frame owned by someone else.
  explicit FrameRef(const wasm_frame_t *frame) : frame_(frame) {}
  /// The function's index in its module.
  uint32_t func_index() const { return wasm_frame_func_index(frame_); }
  /// Byte offset of the frame's position from the start of its function's body.
  size_t func_offset() const { return wasm_frame_func_offset(frame_); }
  /// Byte offset of the frame's position from the start of the module.
  size_t module_offset() const { return wasm_frame_module_offset(frame_); }
  /// The function's name, from the module's `name` section, if it has one.
  std::optional<std::string_view> func_name() const {
    const wasm_name_t *name = wasmtime_frame_func_name(frame_);
    if (name == nullptr) {
      return std::nullopt;
    }
    return std::string_view(name->data, name->size);
  }
  /// The module's name, from its `name` section, if it has one.
  std::optional<std::string_view> module_name() const {
    const wasm_name_t *name = wasmtime_frame_module_name(frame_);
    if (name == nullptr) {
      return std::nullopt;
    }
    return std::string_view(name->data, name->size);
  }
};

/// The WebAssembly frames on the stack when a trap or error happened, innermost first.
class Trace {
  wasm_frame_vec_t vec_{};
  std::vector<FrameRef> frames_;

public:
  /// Takes ownership of a frame vector.
  explicit Trace(wasm_frame_vec_t vec) : vec_(vec) {
    frames_.reserve(vec_.size);
    for (size_t i = 0; i < vec_.size; i++) {
      frames_.emplace_back(vec_.data[i]);
    }
  }
  Trace(const Trace &) = delete;
  Trace &operator=(const Trace &) = delete;
  /// Moves the frames out of `other`.
  Trace(Trace &&other) noexcept : vec_(other.vec_), frames_(std::move(other.frames_)) {
    other.vec_ = wasm_frame_vec_t{};
    other.frames_.clear();
  }
  /// Moves the frames out of `other`.
  Trace &operator=(Trace &&other) noexcept {
    std::swap(vec_, other.vec_);
    std::swap(frames_, other.frames_);
    return *this;
  }
  ~Trace() {
    if (vec_.data != nullptr) {
      wasm_frame_vec_delete(&vec_);
    }
  }

  /// Iteration yields `const FrameRef &`.
  using iterator = std::vector<FrameRef>::const_iterator;
  /// Start of iteration.
  iterator begin() const { return frames_.begin(); }
  /// End of iteration.
  iterator end() const { return frames_.end(); }
  /// How many frames there are.
  size_t size() const { return frames_.size(); }
};

/// An error reported by the runtime (or made by the embedder): a message, and for a WASI
/// `proc_exit` an exit status.
class Error {
  struct deleter {
    void operator()(wasmtime_error_t *p) const { wasmtime_error_delete(p); }
  };
  std::unique_ptr<wasmtime_error_t, deleter> ptr_;

public:
  /// Takes ownership of an error of the C API.
  Error(wasmtime_error_t *error) : ptr_(error) {}
  /// A new error with the given message.
  Error(const std::string &message) : ptr_(wasmtime_error_new(message.c_str())) {}
  /// A new error with the given message.
  Error(const char *message) : Error(std::string(message)) {}

  /// The error's message.
  std::string message() const {
    if (!ptr_) {
      return std::string();
    }
    wasm_name_t msg;
    wasmtime_error_message(ptr_.get(), &msg);
    std::string text(msg.data, msg.size);
    wasm_byte_vec_delete(&msg);
    return text;
  }

  /// The exit status if this error is a WASI `proc_exit`.
  std::optional<int32_t> i32_exit() const {
    int status = 0;
    if (ptr_ && wasmtime_error_exit_status(ptr_.get(), &status)) {
      return static_cast<int32_t>(status);
    }
    return std::nullopt;
  }

  /// The WebAssembly frames on the stack when the error happened (often empty).
  Trace trace() const {
    wasm_frame_vec_t frames{};
    if (ptr_) {
      wasmtime_error_wasm_trace(ptr_.get(), &frames);
    }
    return Trace(frames);
  }

  /// The C error (still owned by this object).
  wasmtime_error_t *capi() const { return ptr_.get(); }
  /// Gives up ownership of the C error.
  wasmtime_error_t *release() { return ptr_.release(); }
};

/// Prints an error's message.
inline std::ostream &operator<<(std::ostream &os, const Error &e) { return os << e.message(); }

/// Why WebAssembly trapped (Wasmtime's trap codes).
enum class TrapCode : uint8_t {
  /// The call stack was exhausted.
  StackOverflow = WASMTIME_TRAP_CODE_STACK_OVERFLOW,
  /// A memory access was out of bounds.
  MemoryOutOfBounds = WASMTIME_TRAP_CODE_MEMORY_OUT_OF_BOUNDS,
  /// A misaligned atomic access.
  HeapMisaligned = WASMTIME_TRAP_CODE_HEAP_MISALIGNED,
  /// A table access was out of bounds.
  TableOutOfBounds = WASMTIME_TRAP_CODE_TABLE_OUT_OF_BOUNDS,
  /// `call_indirect` of a null entry.
  IndirectCallToNull = WASMTIME_TRAP_CODE_INDIRECT_CALL_TO_NULL,
  /// `call_indirect` with the wrong signature.
  BadSignature = WASMTIME_TRAP_CODE_BAD_SIGNATURE,
  /// Integer overflow (e.g. `INT_MIN / -1`).
  IntegerOverflow = WASMTIME_TRAP_CODE_INTEGER_OVERFLOW,
  /// Integer division by zero.
  IntegerDivisionByZero = WASMTIME_TRAP_CODE_INTEGER_DIVISION_BY_ZERO,
  /// A float-to-int conversion out of range or of NaN.
  BadConversionToInteger = WASMTIME_TRAP_CODE_BAD_CONVERSION_TO_INTEGER,
  /// `unreachable` was executed.
  UnreachableCodeReached = WASMTIME_TRAP_CODE_UNREACHABLE_CODE_REACHED,
  /// An epoch deadline interrupted execution.
  Interrupt = WASMTIME_TRAP_CODE_INTERRUPT,
  /// The store ran out of fuel.
  OutOfFuel = WASMTIME_TRAP_CODE_OUT_OF_FUEL,
};

/// A WebAssembly trap: raised by wasm code (e.g. `unreachable`) or by a host function.
class Trap {
  struct deleter {
    void operator()(wasm_trap_t *p) const { wasm_trap_delete(p); }
  };
  std::unique_ptr<wasm_trap_t, deleter> ptr_;

public:
  /// Takes ownership of a trap of the C API.
  explicit Trap(wasm_trap_t *trap) : ptr_(trap) {}
  /// A new host trap with the given message.
  explicit Trap(std::string_view message)
      : ptr_(wasmtime_trap_new(message.data(), message.size())) {}
  /// A new host trap with the given message.
  explicit Trap(const char *message) : Trap(std::string_view(message)) {}
  /// A new host trap with the given message.
  explicit Trap(const std::string &message) : Trap(std::string_view(message)) {}

  /// The trap's message.
  std::string message() const {
    if (!ptr_) {
      return std::string();
    }
    wasm_message_t msg;
    wasm_trap_message(ptr_.get(), &msg);
    size_t len = msg.size;
    // The C API's trap messages end with a NUL byte, which is not part of the text.
    if (len > 0 && msg.data[len - 1] == '\0') {
      len--;
    }
    std::string text(msg.data, len);
    wasm_byte_vec_delete(&msg);
    return text;
  }

  /// The trap code, for traps raised by WebAssembly itself (none for host traps).
  std::optional<TrapCode> code() const {
    wasmtime_trap_code_t code = 0;
    if (ptr_ && wasmtime_trap_code(ptr_.get(), &code)) {
      return static_cast<TrapCode>(code);
    }
    return std::nullopt;
  }

  /// The WebAssembly frames on the stack when the trap happened, innermost first.
  Trace trace() const {
    wasm_frame_vec_t frames{};
    if (ptr_) {
      wasm_trap_trace(ptr_.get(), &frames);
    }
    return Trace(frames);
  }

  /// The C trap (still owned by this object).
  wasm_trap_t *capi() const { return ptr_.get(); }
  /// Gives up ownership of the C trap.
  wasm_trap_t *release() { return ptr_.release(); }
};

/// Prints a trap's message.
inline std::ostream &operator<<(std::ostream &os, const Trap &t) { return os << t.message(); }

/// Either a `Trap` (the code trapped) or an `Error` (e.g. arguments of the wrong type).
struct TrapError {
  /// Which one it is.
  std::variant<Trap, Error> data;

  /// From a trap.
  TrapError(Trap t) : data(std::move(t)) {}
  /// From an error.
  TrapError(Error e) : data(std::move(e)) {}

  /// The message of the trap or error.
  std::string message() const {
    if (const Trap *trap = std::get_if<Trap>(&data)) {
      return trap->message();
    }
    return std::get<Error>(data).message();
  }

  /// The trace of the trap or error.
  Trace trace() const {
    if (const Trap *trap = std::get_if<Trap>(&data)) {
      return trap->trace();
    }
    return std::get<Error>(data).trace();
  }
};

/// Prints the message of a trap or error.
inline std::ostream &operator<<(std::ostream &os, const TrapError &e) {
  return os << e.message();
}

/// The outcome of an operation that can fail: a `T`, or an error `E`.
template <typename T, typename E = Error> class Result {
  std::variant<T, E> data_;

public:
  /// A success.
  Result(T t) : data_(std::in_place_index<0>, std::move(t)) {}
  /// A failure.
  Result(E e) : data_(std::in_place_index<1>, std::move(e)) {}

  /// True for a success.
  explicit operator bool() const { return data_.index() == 0; }

  /// The error (moved out); only valid on a failure.
  E &&err() { return std::get<1>(std::move(data_)); }
  /// The error; only valid on a failure.
  const E &&err() const { return std::get<1>(std::move(data_)); }
  /// The value (moved out); only valid on a success.
  T &&ok() { return std::get<0>(std::move(data_)); }
  /// The value; only valid on a success.
  const T &&ok() const { return std::get<0>(std::move(data_)); }

  /// The value; on a failure prints the error's message to stderr and aborts the process.
  T unwrap() {
    if (data_.index() == 0) {
      return std::get<0>(std::move(data_));
    }
    std::string msg = std::get<1>(data_).message();
    std::fprintf(stderr, "error: %s\n", msg.c_str());
    std::abort();
  }
};

/// A result carrying either a value or a trap/error.
template <typename T> using TrapResult = Result<T, TrapError>;

/* ---- Configuration and engine ------------------------------------------------------------ */

/// Compilation strategies for `Config::strategy`.
enum class Strategy {
  /// Let the engine choose (Cranelift).
  Auto = WASMTIME_STRATEGY_AUTO,
  /// Cranelift.
  Cranelift = WASMTIME_STRATEGY_CRANELIFT,
};

/// Optimization levels for `Config::cranelift_opt_level`.
enum class OptLevel {
  /// No optimization.
  None = WASMTIME_OPT_LEVEL_NONE,
  /// Optimize for speed.
  Speed = WASMTIME_OPT_LEVEL_SPEED,
  /// Optimize for speed and code size.
  SpeedAndSize = WASMTIME_OPT_LEVEL_SPEED_AND_SIZE,
};

/// Profilers for `Config::profiler`.
enum class ProfilingStrategy {
  /// No profiling.
  None = WASMTIME_PROFILING_STRATEGY_NONE,
  /// perf's jitdump format.
  Jitdump = WASMTIME_PROFILING_STRATEGY_JITDUMP,
  /// Intel VTune.
  Vtune = WASMTIME_PROFILING_STRATEGY_VTUNE,
  /// perf's map files.
  Perfmap = WASMTIME_PROFILING_STRATEGY_PERFMAP,
};

/// Engine settings: enabled proposals, fuel and epochs, compiler options, memory layout.
/// Consumed by `Engine(Config)`.
class Config {
  struct deleter {
    void operator()(wasm_config_t *p) const { wasm_config_delete(p); }
  };
  std::unique_ptr<wasm_config_t, deleter> ptr_;

public:
  /// The default settings.
  Config() : ptr_(wasm_config_new()) {}

  /// Whether DWARF debug info is generated.
  void debug_info(bool enable) { wasmtime_config_debug_info_set(ptr_.get(), enable); }
  /// Whether stores can be interrupted through engine epochs.
  void epoch_interruption(bool enable) {
    wasmtime_config_epoch_interruption_set(ptr_.get(), enable);
  }
  /// Whether WebAssembly consumes fuel (and traps when a store's fuel runs out).
  void consume_fuel(bool enable) { wasmtime_config_consume_fuel_set(ptr_.get(), enable); }
  /// The most native stack, in bytes, WebAssembly may use.
  void max_wasm_stack(size_t stack) { wasmtime_config_max_wasm_stack_set(ptr_.get(), stack); }
#ifdef WASMTIME_FEATURE_THREADS
  /// The threads proposal.
  void wasm_threads(bool enable) { wasmtime_config_wasm_threads_set(ptr_.get(), enable); }
#endif
  /// The tail-call proposal.
  void wasm_tail_call(bool enable) { wasmtime_config_wasm_tail_call_set(ptr_.get(), enable); }
  /// The reference-types proposal.
  void wasm_reference_types(bool enable) {
    wasmtime_config_wasm_reference_types_set(ptr_.get(), enable);
  }
  /// The typed function references proposal.
  void wasm_function_references(bool enable) {
    wasmtime_config_wasm_function_references_set(ptr_.get(), enable);
  }
  /// The GC proposal.
  void wasm_gc(bool enable) { wasmtime_config_wasm_gc_set(ptr_.get(), enable); }
  /// The SIMD proposal.
  void wasm_simd(bool enable) { wasmtime_config_wasm_simd_set(ptr_.get(), enable); }
  /// The relaxed-SIMD proposal.
  void wasm_relaxed_simd(bool enable) {
    wasmtime_config_wasm_relaxed_simd_set(ptr_.get(), enable);
  }
  /// Whether relaxed-SIMD instructions give the same results on every host.
  void wasm_relaxed_simd_deterministic(bool enable) {
    wasmtime_config_wasm_relaxed_simd_deterministic_set(ptr_.get(), enable);
  }
  /// The bulk-memory proposal.
  void wasm_bulk_memory(bool enable) {
    wasmtime_config_wasm_bulk_memory_set(ptr_.get(), enable);
  }
  /// The multi-value proposal.
  void wasm_multi_value(bool enable) {
    wasmtime_config_wasm_multi_value_set(ptr_.get(), enable);
  }
  /// The multi-memory proposal.
  void wasm_multi_memory(bool enable) {
    wasmtime_config_wasm_multi_memory_set(ptr_.get(), enable);
  }
  /// The memory64 proposal.
  void wasm_memory64(bool enable) { wasmtime_config_wasm_memory64_set(ptr_.get(), enable); }
  /// The wide-arithmetic proposal.
  void wasm_wide_arithmetic(bool enable) {
    wasmtime_config_wasm_wide_arithmetic_set(ptr_.get(), enable);
  }
  /// The compilation strategy.
  void strategy(Strategy strategy) {
    wasmtime_config_strategy_set(ptr_.get(), static_cast<wasmtime_strategy_t>(strategy));
  }
  /// Whether functions are compiled on several threads.
  void parallel_compilation(bool enable) {
    wasmtime_config_parallel_compilation_set(ptr_.get(), enable);
  }
  /// Whether Cranelift's IR verifier runs.
  void cranelift_debug_verifier(bool enable) {
    wasmtime_config_cranelift_debug_verifier_set(ptr_.get(), enable);
  }
  /// Whether NaN results are canonicalized.
  void cranelift_nan_canonicalization(bool enable) {
    wasmtime_config_cranelift_nan_canonicalization_set(ptr_.get(), enable);
  }
  /// Cranelift's optimization level.
  void cranelift_opt_level(OptLevel level) {
    wasmtime_config_cranelift_opt_level_set(ptr_.get(),
                                            static_cast<wasmtime_opt_level_t>(level));
  }
  /// Enables a boolean Cranelift setting by name.
  void cranelift_flag_enable(const std::string &flag) {
    wasmtime_config_cranelift_flag_enable(ptr_.get(), flag.c_str());
  }
  /// Sets a Cranelift setting by name.
  void cranelift_flag_set(const std::string &flag, const std::string &value) {
    wasmtime_config_cranelift_flag_set(ptr_.get(), flag.c_str(), value.c_str());
  }
  /// The profiler to report compiled code to.
  void profiler(ProfilingStrategy profiler) {
    wasmtime_config_profiler_set(ptr_.get(),
                                 static_cast<wasmtime_profiling_strategy_t>(profiler));
  }
  /// Whether a linear memory's base address may change when it grows.
  void memory_may_move(bool enable) { wasmtime_config_memory_may_move_set(ptr_.get(), enable); }
  /// Bytes of address space reserved for each linear memory.
  void memory_reservation(uint64_t size) {
    wasmtime_config_memory_reservation_set(ptr_.get(), size);
  }
  /// Bytes of guard region after each linear memory.
  void memory_guard_size(uint64_t size) {
    wasmtime_config_memory_guard_size_set(ptr_.get(), size);
  }
  /// Extra bytes reserved past a memory for growing in place.
  void memory_reservation_for_growth(uint64_t size) {
    wasmtime_config_memory_reservation_for_growth_set(ptr_.get(), size);
  }
  /// Whether native unwind information is generated.
  void native_unwind_info(bool enable) {
    wasmtime_config_native_unwind_info_set(ptr_.get(), enable);
  }
  /// Whether memories are initialized copy-on-write from their module's data.
  void memory_init_cow(bool enable) { wasmtime_config_memory_init_cow_set(ptr_.get(), enable); }
  /// Whether Mach ports handle traps on macOS.
  void macos_use_mach_ports(bool enable) {
    wasmtime_config_macos_use_mach_ports_set(ptr_.get(), enable);
  }
#ifdef WASMTIME_FEATURE_ASYNC
  /// Whether the async C API (`wasmtime_func_call_async`, ...) may be used.
  void async_support(bool enable) { wasmtime_config_async_support_set(ptr_.get(), enable); }
  /// Stack size, in bytes, of the fibers async calls run on.
  void async_stack_size(uint64_t size) {
    wasmtime_config_async_stack_size_set(ptr_.get(), size);
  }
#endif
#ifdef WASMTIME_FEATURE_CACHE
  /// Loads the default compilation cache configuration.
  [[nodiscard]] Result<std::monostate> cache_load_default() {
    wasmtime_error_t *error = wasmtime_config_cache_config_load(ptr_.get(), nullptr);
    if (error != nullptr) {
      return Error(error);
    }
    return std::monostate();
  }
  /// Loads a compilation cache configuration file.
  [[nodiscard]] Result<std::monostate> cache_load(const std::string &path) {
    wasmtime_error_t *error = wasmtime_config_cache_config_load(ptr_.get(), path.c_str());
    if (error != nullptr) {
      return Error(error);
    }
    return std::monostate();
  }
#endif
  /// The target triple to compile for.
  [[nodiscard]] Result<std::monostate> target(const std::string &target) {
    wasmtime_error_t *error = wasmtime_config_target_set(ptr_.get(), target.c_str());
    if (error != nullptr) {
      return Error(error);
    }
    return std::monostate();
  }

  /// The C configuration (still owned by this object).
  wasm_config_t *capi() const { return ptr_.get(); }
  /// Gives up ownership of the C configuration.
  wasm_config_t *release() { return ptr_.release(); }
};

/// Compilation settings and compiled-code state shared by modules and stores.
class Engine {
  struct deleter {
    void operator()(wasm_engine_t *p) const { wasm_engine_delete(p); }
  };
  std::unique_ptr<wasm_engine_t, deleter> ptr_;

public:
  /// An engine with the default configuration.
  Engine() : ptr_(wasm_engine_new()) {}
  /// An engine with the given configuration.
  explicit Engine(Config config) : ptr_(wasm_engine_new_with_config(config.release())) {}
  /// Another handle to the same engine.
  Engine(const Engine &other) : ptr_(wasmtime_engine_clone(other.ptr_.get())) {}
  /// Another handle to the same engine.
  Engine &operator=(const Engine &other) {
    ptr_.reset(wasmtime_engine_clone(other.ptr_.get()));
    return *this;
  }
  /// Moves the engine.
  Engine(Engine &&) = default;
  /// Moves the engine.
  Engine &operator=(Engine &&) = default;
  ~Engine() = default;

  /// Advances the epoch, interrupting stores whose epoch deadline is reached.
  void increment_epoch() const { wasmtime_engine_increment_epoch(ptr_.get()); }
  /// Whether this engine runs code on Wasmtime's Pulley interpreter (never for wasmjit).
  bool is_pulley() const { return wasmtime_engine_is_pulley(ptr_.get()); }

  /// The C engine (still owned by this object).
  wasm_engine_t *capi() const { return ptr_.get(); }
};

/// Translates the WebAssembly text format to the binary format.
[[nodiscard]] inline Result<std::vector<uint8_t>> wat2wasm(std::string_view wat) {
  wasm_byte_vec_t bytes;
  wasmtime_error_t *error = wasmtime_wat2wasm(wat.data(), wat.size(), &bytes);
  if (error != nullptr) {
    return Error(error);
  }
  std::vector<uint8_t> out(bytes.size);
  if (bytes.size > 0) {
    std::memcpy(out.data(), bytes.data, bytes.size);
  }
  wasm_byte_vec_delete(&bytes);
  return out;
}

/* ---- Types ------------------------------------------------------------------------------ */

/// The kinds of WebAssembly values.
enum class ValKind {
  /// `i32`
  I32,
  /// `i64`
  I64,
  /// `f32`
  F32,
  /// `f64`
  F64,
  /// `v128`
  V128,
  /// `externref`
  ExternRef,
  /// `funcref`
  FuncRef,
};

/// Prints a kind as its WebAssembly text name.
inline std::ostream &operator<<(std::ostream &os, const ValKind &kind) {
  switch (kind) {
  case ValKind::I32:
    return os << "i32";
  case ValKind::I64:
    return os << "i64";
  case ValKind::F32:
    return os << "f32";
  case ValKind::F64:
    return os << "f64";
  case ValKind::V128:
    return os << "v128";
  case ValKind::ExternRef:
    return os << "externref";
  case ValKind::FuncRef:
    return os << "funcref";
  }
  return os << "unknown";
}

namespace detail {

inline wasm_valkind_t valkind_to_c(ValKind kind) {
  switch (kind) {
  case ValKind::I32:
    return WASM_I32;
  case ValKind::I64:
    return WASM_I64;
  case ValKind::F32:
    return WASM_F32;
  case ValKind::F64:
    return WASM_F64;
  case ValKind::V128:
    return WASMTIME_V128;
  case ValKind::ExternRef:
    return WASM_EXTERNREF;
  case ValKind::FuncRef:
    return WASM_FUNCREF;
  }
  return WASM_I32;
}

inline ValKind valkind_from_c(wasm_valkind_t kind) {
  switch (kind) {
  case WASM_I32:
    return ValKind::I32;
  case WASM_I64:
    return ValKind::I64;
  case WASM_F32:
    return ValKind::F32;
  case WASM_F64:
    return ValKind::F64;
  case WASMTIME_V128:
    return ValKind::V128;
  case WASM_EXTERNREF:
    return ValKind::ExternRef;
  case WASM_FUNCREF:
    return ValKind::FuncRef;
  default:
    break;
  }
  std::fprintf(stderr, "wasmtime.hh: unknown value kind %d\n", static_cast<int>(kind));
  std::abort();
}

} // namespace detail

/// The type of a WebAssembly value.
class ValType {
  struct deleter {
    void operator()(wasm_valtype_t *p) const { wasm_valtype_delete(p); }
  };
  std::unique_ptr<wasm_valtype_t, deleter> ptr_;

public:
  /// A view of a value type owned elsewhere.
  class Ref {
    const wasm_valtype_t *ptr_;

  public:
    /// Views a C value type.
    Ref(const wasm_valtype_t *ptr) : ptr_(ptr) {}
    /// Views an owned value type.
    Ref(const ValType &ty) : ptr_(ty.capi()) {}
    /// The kind of value.
    ValKind kind() const { return detail::valkind_from_c(wasm_valtype_kind(ptr_)); }
    /// The C value type.
    const wasm_valtype_t *capi() const { return ptr_; }
  };

  /// A view of a list of value types owned elsewhere (a function's parameters or results).
  class ListRef {
    std::vector<Ref> refs_;

  public:
    /// Views a C value type vector.
    ListRef(const wasm_valtype_vec_t *list) {
      refs_.reserve(list->size);
      for (size_t i = 0; i < list->size; i++) {
        refs_.emplace_back(list->data[i]);
      }
    }
    /// Iteration yields `const ValType::Ref &`.
    using iterator = std::vector<Ref>::const_iterator;
    /// Start of iteration.
    iterator begin() const { return refs_.begin(); }
    /// End of iteration.
    iterator end() const { return refs_.end(); }
    /// How many types there are.
    size_t size() const { return refs_.size(); }
  };

private:
  mutable std::optional<Ref> ref_;

public:
  /// Takes ownership of a C value type.
  explicit ValType(wasm_valtype_t *ptr) : ptr_(ptr) {}
  /// A value type of the given kind.
  ValType(ValKind kind) : ptr_(wasm_valtype_new(detail::valkind_to_c(kind))) {}
  /// An owned copy of a viewed type.
  ValType(Ref other) : ptr_(wasm_valtype_copy(other.capi())) {}
  /// A copy.
  ValType(const ValType &other) : ptr_(wasm_valtype_copy(other.ptr_.get())) {}
  /// A copy.
  ValType &operator=(const ValType &other) {
    ptr_.reset(wasm_valtype_copy(other.ptr_.get()));
    return *this;
  }
  /// Moves the type.
  ValType(ValType &&) = default;
  /// Moves the type.
  ValType &operator=(ValType &&) = default;
  ~ValType() = default;

  /// The kind of value.
  ValKind kind() const { return Ref(*this).kind(); }
  /// A view of this type (`ty->kind()`).
  const Ref *operator->() const {
    ref_.emplace(ptr_.get());
    return &*ref_;
  }
  /// A view of this type.
  const Ref *operator*() const { return operator->(); }

  /// The C value type (still owned by this object).
  const wasm_valtype_t *capi() const { return ptr_.get(); }
  /// Gives up ownership of the C value type.
  wasm_valtype_t *release() { return ptr_.release(); }
};

/// The type of a linear memory: limits in 64 KiB pages, index type, sharing.
class MemoryType {
  struct deleter {
    void operator()(wasm_memorytype_t *p) const { wasm_memorytype_delete(p); }
  };
  std::unique_ptr<wasm_memorytype_t, deleter> ptr_;

public:
  /// A view of a memory type owned elsewhere.
  class Ref {
    const wasm_memorytype_t *ptr_;

  public:
    /// Views a C memory type.
    Ref(const wasm_memorytype_t *ptr) : ptr_(ptr) {}
    /// Views an owned memory type.
    Ref(const MemoryType &ty) : ptr_(ty.capi()) {}
    /// The minimum size in pages.
    uint64_t min() const { return wasmtime_memorytype_minimum(ptr_); }
    /// The maximum size in pages, if there is one.
    std::optional<uint64_t> max() const {
      uint64_t max = 0;
      if (wasmtime_memorytype_maximum(ptr_, &max)) {
        return max;
      }
      return std::nullopt;
    }
    /// Whether the memory is indexed by i64.
    bool is_64() const { return wasmtime_memorytype_is64(ptr_); }
    /// Whether the memory is shared.
    bool is_shared() const { return wasmtime_memorytype_isshared(ptr_); }
    /// The C memory type.
    const wasm_memorytype_t *capi() const { return ptr_; }
  };

  /// Builds a memory type setting one property at a time.
  class Builder {
    uint64_t min_ = 0;
    std::optional<uint64_t> max_;
    bool is_64_ = false;
    bool shared_ = false;

  public:
    /// Starts from a 32-bit, unshared memory of 0 pages without a maximum.
    Builder() = default;
    /// The minimum size in pages.
    Builder &min(uint64_t min) {
      min_ = min;
      return *this;
    }
    /// The maximum size in pages.
    Builder &max(std::optional<uint64_t> max) {
      max_ = max;
      return *this;
    }
    /// Whether the memory is indexed by i64.
    Builder &memory64(bool enable) {
      is_64_ = enable;
      return *this;
    }
    /// Whether the memory is shared.
    Builder &shared(bool enable) {
      shared_ = enable;
      return *this;
    }
    /// The memory type.
    MemoryType build() const {
      return MemoryType(
          wasmtime_memorytype_new(min_, max_.has_value(), max_.value_or(0), is_64_, shared_));
    }
  };

private:
  mutable std::optional<Ref> ref_;

public:
  /// Takes ownership of a C memory type.
  explicit MemoryType(wasm_memorytype_t *ptr) : ptr_(ptr) {}
  /// A 32-bit memory of at least `min` pages and no maximum.
  explicit MemoryType(uint32_t min)
      : ptr_(wasmtime_memorytype_new(min, false, 0, false, false)) {}
  /// A 32-bit memory of `min` to `max` pages.
  MemoryType(uint32_t min, uint32_t max)
      : ptr_(wasmtime_memorytype_new(min, true, max, false, false)) {}
  /// A 64-bit memory of at least `min` pages and no maximum.
  static MemoryType New64(uint64_t min) {
    return MemoryType(wasmtime_memorytype_new(min, false, 0, true, false));
  }
  /// A 64-bit memory of `min` to `max` pages.
  static MemoryType New64(uint64_t min, uint64_t max) {
    return MemoryType(wasmtime_memorytype_new(min, true, max, true, false));
  }
  /// An owned copy of a viewed type.
  MemoryType(Ref other) : ptr_(wasm_memorytype_copy(other.capi())) {}
  /// A copy.
  MemoryType(const MemoryType &other) : ptr_(wasm_memorytype_copy(other.ptr_.get())) {}
  /// A copy.
  MemoryType &operator=(const MemoryType &other) {
    ptr_.reset(wasm_memorytype_copy(other.ptr_.get()));
    return *this;
  }
  /// Moves the type.
  MemoryType(MemoryType &&) = default;
  /// Moves the type.
  MemoryType &operator=(MemoryType &&) = default;
  ~MemoryType() = default;

  /// A view of this type (`ty->min()`).
  const Ref *operator->() const {
    ref_.emplace(ptr_.get());
    return &*ref_;
  }
  /// A view of this type.
  const Ref *operator*() const { return operator->(); }
  /// The C memory type (still owned by this object).
  const wasm_memorytype_t *capi() const { return ptr_.get(); }
};

/// The type of a table: element type and limits.
class TableType {
  struct deleter {
    void operator()(wasm_tabletype_t *p) const { wasm_tabletype_delete(p); }
  };
  std::unique_ptr<wasm_tabletype_t, deleter> ptr_;

  static wasm_tabletype_t *make(ValType ty, uint32_t min, uint32_t max) {
    wasm_limits_t limits;
    limits.min = min;
    limits.max = max;
    return wasm_tabletype_new(ty.release(), &limits);
  }

public:
  /// A view of a table type owned elsewhere.
  class Ref {
    const wasm_tabletype_t *ptr_;

  public:
    /// Views a C table type.
    Ref(const wasm_tabletype_t *ptr) : ptr_(ptr) {}
    /// Views an owned table type.
    Ref(const TableType &ty) : ptr_(ty.capi()) {}
    /// The minimum number of elements.
    uint32_t min() const { return wasm_tabletype_limits(ptr_)->min; }
    /// The maximum number of elements, if there is one.
    std::optional<uint32_t> max() const {
      const wasm_limits_t *limits = wasm_tabletype_limits(ptr_);
      if (limits->max == wasm_limits_max_default) {
        return std::nullopt;
      }
      return limits->max;
    }
    /// The element type.
    ValType::Ref element() const { return wasm_tabletype_element(ptr_); }
    /// The C table type.
    const wasm_tabletype_t *capi() const { return ptr_; }
  };

private:
  mutable std::optional<Ref> ref_;

public:
  /// Takes ownership of a C table type.
  explicit TableType(wasm_tabletype_t *ptr) : ptr_(ptr) {}
  /// A table of `ty` with at least `min` elements and no maximum.
  TableType(ValType ty, uint32_t min) : ptr_(make(std::move(ty), min, wasm_limits_max_default)) {}
  /// A table of `ty` with `min` to `max` elements.
  TableType(ValType ty, uint32_t min, uint32_t max) : ptr_(make(std::move(ty), min, max)) {}
  /// An owned copy of a viewed type.
  TableType(Ref other) : ptr_(wasm_tabletype_copy(other.capi())) {}
  /// A copy.
  TableType(const TableType &other) : ptr_(wasm_tabletype_copy(other.ptr_.get())) {}
  /// A copy.
  TableType &operator=(const TableType &other) {
    ptr_.reset(wasm_tabletype_copy(other.ptr_.get()));
    return *this;
  }
  /// Moves the type.
  TableType(TableType &&) = default;
  /// Moves the type.
  TableType &operator=(TableType &&) = default;
  ~TableType() = default;

  /// A view of this type (`ty->element()`).
  const Ref *operator->() const {
    ref_.emplace(ptr_.get());
    return &*ref_;
  }
  /// A view of this type.
  const Ref *operator*() const { return operator->(); }
  /// The C table type (still owned by this object).
  const wasm_tabletype_t *capi() const { return ptr_.get(); }
};

/// The type of a global: value type and mutability.
class GlobalType {
  struct deleter {
    void operator()(wasm_globaltype_t *p) const { wasm_globaltype_delete(p); }
  };
  std::unique_ptr<wasm_globaltype_t, deleter> ptr_;

public:
  /// A view of a global type owned elsewhere.
  class Ref {
    const wasm_globaltype_t *ptr_;

  public:
    /// Views a C global type.
    Ref(const wasm_globaltype_t *ptr) : ptr_(ptr) {}
    /// Views an owned global type.
    Ref(const GlobalType &ty) : ptr_(ty.capi()) {}
    /// Whether the global can be set.
    bool is_mutable() const { return wasm_globaltype_mutability(ptr_) == WASM_VAR; }
    /// The type of the global's value.
    ValType::Ref content() const { return wasm_globaltype_content(ptr_); }
    /// The C global type.
    const wasm_globaltype_t *capi() const { return ptr_; }
  };

private:
  mutable std::optional<Ref> ref_;

public:
  /// Takes ownership of a C global type.
  explicit GlobalType(wasm_globaltype_t *ptr) : ptr_(ptr) {}
  /// A global holding `ty`, mutable if `mut`.
  GlobalType(ValType ty, bool mut)
      : ptr_(wasm_globaltype_new(ty.release(),
                                 static_cast<wasm_mutability_t>(mut ? WASM_VAR : WASM_CONST))) {}
  /// An owned copy of a viewed type.
  GlobalType(Ref other) : ptr_(wasm_globaltype_copy(other.capi())) {}
  /// A copy.
  GlobalType(const GlobalType &other) : ptr_(wasm_globaltype_copy(other.ptr_.get())) {}
  /// A copy.
  GlobalType &operator=(const GlobalType &other) {
    ptr_.reset(wasm_globaltype_copy(other.ptr_.get()));
    return *this;
  }
  /// Moves the type.
  GlobalType(GlobalType &&) = default;
  /// Moves the type.
  GlobalType &operator=(GlobalType &&) = default;
  ~GlobalType() = default;

  /// A view of this type (`ty->content()`).
  const Ref *operator->() const {
    ref_.emplace(ptr_.get());
    return &*ref_;
  }
  /// A view of this type.
  const Ref *operator*() const { return operator->(); }
  /// The C global type (still owned by this object).
  const wasm_globaltype_t *capi() const { return ptr_.get(); }
};

/// The type of a function: parameter and result types.
class FuncType {
  struct deleter {
    void operator()(wasm_functype_t *p) const { wasm_functype_delete(p); }
  };
  std::unique_ptr<wasm_functype_t, deleter> ptr_;

public:
  /// A view of a function type owned elsewhere.
  class Ref {
    const wasm_functype_t *ptr_;

  public:
    /// Views a C function type.
    Ref(const wasm_functype_t *ptr) : ptr_(ptr) {}
    /// Views an owned function type.
    Ref(const FuncType &ty) : ptr_(ty.capi()) {}
    /// The parameter types.
    ValType::ListRef params() const { return wasm_functype_params(ptr_); }
    /// The result types.
    ValType::ListRef results() const { return wasm_functype_results(ptr_); }
    /// The C function type.
    const wasm_functype_t *capi() const { return ptr_; }
  };

private:
  mutable std::optional<Ref> ref_;

public:
  /// Takes ownership of a C function type.
  explicit FuncType(wasm_functype_t *ptr) : ptr_(ptr) {}
  /// A function type from lists of parameter and result types.
  FuncType(std::initializer_list<ValType> params, std::initializer_list<ValType> results)
      : FuncType(from_iters(params, results)) {}
  /// An owned copy of a viewed type.
  FuncType(Ref other) : ptr_(wasm_functype_copy(other.capi())) {}
  /// A copy.
  FuncType(const FuncType &other) : ptr_(wasm_functype_copy(other.ptr_.get())) {}
  /// A copy.
  FuncType &operator=(const FuncType &other) {
    ptr_.reset(wasm_functype_copy(other.ptr_.get()));
    return *this;
  }
  /// Moves the type.
  FuncType(FuncType &&) = default;
  /// Moves the type.
  FuncType &operator=(FuncType &&) = default;
  ~FuncType() = default;

  /// A function type from two ranges of `ValType`s.
  template <typename P, typename R> static FuncType from_iters(P params, R results) {
    wasm_valtype_vec_t param_vec;
    wasm_valtype_vec_t result_vec;
    wasm_valtype_vec_new_uninitialized(&param_vec, std::size(params));
    wasm_valtype_vec_new_uninitialized(&result_vec, std::size(results));
    size_t i = 0;
    for (const auto &ty : params) {
      param_vec.data[i++] = wasm_valtype_copy(ValType(ty).capi());
    }
    i = 0;
    for (const auto &ty : results) {
      result_vec.data[i++] = wasm_valtype_copy(ValType(ty).capi());
    }
    return FuncType(wasm_functype_new(&param_vec, &result_vec));
  }

  /// A view of this type (`ty->params()`).
  const Ref *operator->() const {
    ref_.emplace(ptr_.get());
    return &*ref_;
  }
  /// A view of this type.
  const Ref *operator*() const { return operator->(); }
  /// The C function type (still owned by this object).
  const wasm_functype_t *capi() const { return ptr_.get(); }
};

class ExternType;

namespace detail {
/// An owned C vector of import or export types (`Vec`, freed with `Delete`), iterated as
/// views (`Ref`) of its elements.
template <typename Vec, typename Ref, void (*Delete)(Vec *)> class OwnedTypeList {
  Vec list_{};
  std::vector<Ref> refs_;

public:
  /// An empty list.
  OwnedTypeList() = default;
  /// Takes ownership of a C type vector.
  explicit OwnedTypeList(Vec list) : list_(list) {
    refs_.reserve(list_.size);
    for (size_t i = 0; i < list_.size; i++) {
      refs_.emplace_back(list_.data[i]);
    }
  }
  OwnedTypeList(const OwnedTypeList &) = delete;
  OwnedTypeList &operator=(const OwnedTypeList &) = delete;
  /// Moves the list.
  OwnedTypeList(OwnedTypeList &&other) noexcept
      : list_(other.list_), refs_(std::move(other.refs_)) {
    other.list_ = Vec{};
    other.refs_.clear();
  }
  /// Moves the list.
  OwnedTypeList &operator=(OwnedTypeList &&other) noexcept {
    std::swap(list_, other.list_);
    std::swap(refs_, other.refs_);
    return *this;
  }
  ~OwnedTypeList() {
    if (list_.data != nullptr) {
      Delete(&list_);
    }
  }
  /// Iteration yields `const Ref &`.
  using iterator = typename std::vector<Ref>::const_iterator;
  /// Start of iteration.
  iterator begin() const { return refs_.begin(); }
  /// End of iteration.
  iterator end() const { return refs_.end(); }
  /// How many types there are.
  size_t size() const { return refs_.size(); }
};
} // namespace detail

/// A module's import: module name, field name and type.
class ImportType {
public:
  /// A view of an import type owned elsewhere.
  class Ref {
    const wasm_importtype_t *ptr_;

  public:
    /// Views a C import type.
    Ref(const wasm_importtype_t *ptr) : ptr_(ptr) {}
    /// The module name.
    std::string_view module() const {
      const wasm_name_t *name = wasm_importtype_module(ptr_);
      return std::string_view(name->data, name->size);
    }
    /// The field name.
    std::string_view name() const {
      const wasm_name_t *name = wasm_importtype_name(ptr_);
      return std::string_view(name->data, name->size);
    }
    /// The imported item's type (see `ExternType::from_import`).
    const wasm_externtype_t *raw_type() const { return wasm_importtype_type(ptr_); }
    /// The C import type.
    const wasm_importtype_t *capi() const { return ptr_; }
  };

  /// An owned list of import types.
  using List = detail::OwnedTypeList<wasm_importtype_vec_t, Ref, wasm_importtype_vec_delete>;
};

/// A module's export: name and type.
class ExportType {
public:
  /// A view of an export type owned elsewhere.
  class Ref {
    const wasm_exporttype_t *ptr_;

  public:
    /// Views a C export type.
    Ref(const wasm_exporttype_t *ptr) : ptr_(ptr) {}
    /// The export's name.
    std::string_view name() const {
      const wasm_name_t *name = wasm_exporttype_name(ptr_);
      return std::string_view(name->data, name->size);
    }
    /// The exported item's type (see `ExternType::from_export`).
    const wasm_externtype_t *raw_type() const { return wasm_exporttype_type(ptr_); }
    /// The C export type.
    const wasm_exporttype_t *capi() const { return ptr_; }
  };

  /// An owned list of export types.
  using List = detail::OwnedTypeList<wasm_exporttype_vec_t, Ref, wasm_exporttype_vec_delete>;
};

/// The type of an import or export: one of the four item types.
class ExternType {
public:
  /// A view of the item's type; which alternative is held says what the item is.
  using Ref = std::variant<FuncType::Ref, GlobalType::Ref, TableType::Ref, MemoryType::Ref>;

  /// The type of an imported item.
  static Ref from_import(ImportType::Ref ty) { return ref_from_c(ty.raw_type()); }
  /// The type of an exported item.
  static Ref from_export(ExportType::Ref ty) { return ref_from_c(ty.raw_type()); }

  /// A view of a C extern type.
  static Ref ref_from_c(const wasm_externtype_t *ptr) {
    switch (wasm_externtype_kind(ptr)) {
    case WASM_EXTERN_FUNC:
      return FuncType::Ref(wasm_externtype_as_functype_const(ptr));
    case WASM_EXTERN_GLOBAL:
      return GlobalType::Ref(wasm_externtype_as_globaltype_const(ptr));
    case WASM_EXTERN_TABLE:
      return TableType::Ref(wasm_externtype_as_tabletype_const(ptr));
    case WASM_EXTERN_MEMORY:
      return MemoryType::Ref(wasm_externtype_as_memorytype_const(ptr));
    default:
      break;
    }
    std::fprintf(stderr, "wasmtime.hh: unknown extern type kind\n");
    std::abort();
  }
};

/* ---- Modules ---------------------------------------------------------------------------- */

/// A compiled WebAssembly module, instantiable in any store of its engine.
class Module {
  struct deleter {
    void operator()(wasmtime_module_t *p) const { wasmtime_module_delete(p); }
  };
  std::unique_ptr<wasmtime_module_t, deleter> ptr_;

public:
  /// Takes ownership of a C module.
  explicit Module(wasmtime_module_t *raw) : ptr_(raw) {}
  /// Another handle to the same compiled module (cheap).
  Module(const Module &other) : ptr_(wasmtime_module_clone(other.ptr_.get())) {}
  /// Another handle to the same compiled module (cheap).
  Module &operator=(const Module &other) {
    ptr_.reset(wasmtime_module_clone(other.ptr_.get()));
    return *this;
  }
  /// Moves the module.
  Module(Module &&) = default;
  /// Moves the module.
  Module &operator=(Module &&) = default;
  ~Module() = default;

#ifdef WASMTIME_FEATURE_WAT
  /// Compiles a module from the text format.
  [[nodiscard]] static Result<Module> compile(Engine &engine, std::string_view wat) {
    auto wasm = wat2wasm(wat);
    if (!wasm) {
      return wasm.err();
    }
    std::vector<uint8_t> bytes = wasm.ok();
    return compile(engine, Span<uint8_t>(bytes.data(), bytes.size()));
  }
#endif

  /// Compiles a module from the binary format.
  [[nodiscard]] static Result<Module> compile(Engine &engine, Span<uint8_t> wasm) {
    wasmtime_module_t *ret = nullptr;
    wasmtime_error_t *error = wasmtime_module_new(engine.capi(), wasm.data(), wasm.size(), &ret);
    if (error != nullptr) {
      return Error(error);
    }
    return Module(ret);
  }

  /// Checks that a binary is a valid module for `engine` without compiling it.
  [[nodiscard]] static Result<std::monostate> validate(Engine &engine, Span<uint8_t> wasm) {
    wasmtime_error_t *error = wasmtime_module_validate(engine.capi(), wasm.data(), wasm.size());
    if (error != nullptr) {
      return Error(error);
    }
    return std::monostate();
  }

  /// Loads a module from bytes made by `serialize` (trusted input only).
  [[nodiscard]] static Result<Module> deserialize(Engine &engine, Span<uint8_t> bytes) {
    wasmtime_module_t *ret = nullptr;
    wasmtime_error_t *error =
        wasmtime_module_deserialize(engine.capi(), bytes.data(), bytes.size(), &ret);
    if (error != nullptr) {
      return Error(error);
    }
    return Module(ret);
  }

  /// Loads a module from a file written with the bytes of `serialize` (trusted input only).
  [[nodiscard]] static Result<Module> deserialize_file(Engine &engine, const std::string &path) {
    wasmtime_module_t *ret = nullptr;
    wasmtime_error_t *error = wasmtime_module_deserialize_file(engine.capi(), path.c_str(), &ret);
    if (error != nullptr) {
      return Error(error);
    }
    return Module(ret);
  }

  /// The module's imports, in order.
  ImportType::List imports() const {
    wasm_importtype_vec_t list{};
    wasmtime_module_imports(ptr_.get(), &list);
    return ImportType::List(list);
  }

  /// The module's exports, in order.
  ExportType::List exports() const {
    wasm_exporttype_vec_t list{};
    wasmtime_module_exports(ptr_.get(), &list);
    return ExportType::List(list);
  }

  /// The compiled module as bytes, for `deserialize`.
  [[nodiscard]] Result<std::vector<uint8_t>> serialize() const {
    wasm_byte_vec_t bytes;
    wasmtime_error_t *error = wasmtime_module_serialize(ptr_.get(), &bytes);
    if (error != nullptr) {
      return Error(error);
    }
    std::vector<uint8_t> out(bytes.size);
    if (bytes.size > 0) {
      std::memcpy(out.data(), bytes.data, bytes.size);
    }
    wasm_byte_vec_delete(&bytes);
    return out;
  }

  /// The C module (still owned by this object).
  wasmtime_module_t *capi() const { return ptr_.get(); }
};

/* ---- WASI -------------------------------------------------------------------------------- */

#ifdef WASMTIME_FEATURE_WASI

/// How a WASI program sees the world: argv, environment, stdio and preopened directories.
/// Given to a store with `Store::Context::set_wasi`.
class WasiConfig {
  struct deleter {
    void operator()(wasi_config_t *p) const { wasi_config_delete(p); }
  };
  std::unique_ptr<wasi_config_t, deleter> ptr_;

public:
  /// Nothing inherited, no arguments, no environment, no preopens.
  WasiConfig() : ptr_(wasi_config_new()) {}

  /// The program's arguments (`argv[0]` included).
  void argv(const std::vector<std::string> &args) {
    std::vector<const char *> ptrs;
    ptrs.reserve(args.size());
    for (const std::string &arg : args) {
      ptrs.push_back(arg.c_str());
    }
    wasi_config_set_argv(ptr_.get(), ptrs.size(), ptrs.data());
  }
  /// The host process's arguments.
  void inherit_argv() { wasi_config_inherit_argv(ptr_.get()); }
  /// The environment, as name/value pairs.
  void env(const std::vector<std::pair<std::string, std::string>> &env) {
    std::vector<const char *> names;
    std::vector<const char *> values;
    for (const auto &entry : env) {
      names.push_back(entry.first.c_str());
      values.push_back(entry.second.c_str());
    }
    wasi_config_set_env(ptr_.get(), env.size(), names.data(), values.data());
  }
  /// The host process's environment.
  void inherit_env() { wasi_config_inherit_env(ptr_.get()); }
  /// Reads stdin from a file; false if it cannot be opened.
  [[nodiscard]] bool stdin_file(const std::string &path) {
    return wasi_config_set_stdin_file(ptr_.get(), path.c_str());
  }
  /// The host process's stdin.
  void inherit_stdin() { wasi_config_inherit_stdin(ptr_.get()); }
  /// Writes stdout to a file; false if it cannot be created.
  [[nodiscard]] bool stdout_file(const std::string &path) {
    return wasi_config_set_stdout_file(ptr_.get(), path.c_str());
  }
  /// The host process's stdout.
  void inherit_stdout() { wasi_config_inherit_stdout(ptr_.get()); }
  /// Writes stderr to a file; false if it cannot be created.
  [[nodiscard]] bool stderr_file(const std::string &path) {
    return wasi_config_set_stderr_file(ptr_.get(), path.c_str());
  }
  /// The host process's stderr.
  void inherit_stderr() { wasi_config_inherit_stderr(ptr_.get()); }
  /// Makes host directory `path` visible as `guest_path` with the given permissions
  /// (`WASMTIME_WASI_DIR_PERMS_*` / `WASMTIME_WASI_FILE_PERMS_*` flags).
  [[nodiscard]] bool preopen_dir(const std::string &path, const std::string &guest_path,
                                 size_t dir_perms, size_t file_perms) {
    return wasi_config_preopen_dir(ptr_.get(), path.c_str(), guest_path.c_str(), dir_perms,
                                   file_perms);
  }
  /// Makes host directory `path` visible as `guest_path`, readable and writable.
  [[nodiscard]] bool preopen_dir(const std::string &path, const std::string &guest_path) {
    return preopen_dir(path, guest_path, 3, 3);
  }

  /// Gives up ownership of the C configuration.
  wasi_config_t *release() { return ptr_.release(); }
};

#endif

/* ---- Stores ------------------------------------------------------------------------------ */

class Caller;
class Func;
class Global;
class Memory;
class Table;
class Instance;
template <typename Params, typename Results> class TypedFunc;

/// Owns WebAssembly objects (instances, functions, memories, ...) and their state. Used
/// through a `Store::Context`, which a `Store&` converts to implicitly.
class Store {
  struct deleter {
    void operator()(wasmtime_store_t *p) const { wasmtime_store_delete(p); }
  };
  std::unique_ptr<wasmtime_store_t, deleter> ptr_;

  static void finalize_data(void *data) { delete static_cast<std::any *>(data); }

public:
  /// A new store in `engine`, with empty user data.
  explicit Store(Engine &engine)
      : ptr_(wasmtime_store_new(engine.capi(), new std::any(), finalize_data)) {}
  Store(const Store &) = delete;
  Store &operator=(const Store &) = delete;
  /// Moves the store (contexts made from it stay valid).
  Store(Store &&) = default;
  /// Moves the store (contexts made from it stay valid).
  Store &operator=(Store &&) = default;
  ~Store() = default;

  /// A pointer into a store's state: the first argument of most methods. Made from a
  /// `Store&` or a `Caller&`; valid while the store (or the host call) lasts.
  class Context {
    wasmtime_context_t *ptr_;

  public:
    /// Wraps a C context.
    Context(wasmtime_context_t *ptr) : ptr_(ptr) {}
    /// The context of a store.
    Context(Store &store) : ptr_(wasmtime_store_context(store.ptr_.get())) {}
    /// The context of a store.
    Context(Store *store) : Context(*store) {}
    /// The context of the store a host function was called in.
    Context(Caller &caller);
    /// The context of the store a host function was called in.
    Context(Caller *caller);

    /// Collects unreachable `externref`s. Returns a `Result` (always ok here) as newer
    /// versions of this API do, so that both `gc();` and `if (!gc())` compile.
    Result<std::monostate> gc() {
      wasmtime_context_gc(ptr_);
      return std::monostate();
    }

    /// Sets the fuel left; an error if the engine does not consume fuel.
    [[nodiscard]] Result<std::monostate> set_fuel(uint64_t fuel) {
      wasmtime_error_t *error = wasmtime_context_set_fuel(ptr_, fuel);
      if (error != nullptr) {
        return Error(error);
      }
      return std::monostate();
    }

    /// The fuel left; an error if the engine does not consume fuel.
    [[nodiscard]] Result<uint64_t> get_fuel() const {
      uint64_t fuel = 0;
      wasmtime_error_t *error = wasmtime_context_get_fuel(ptr_, &fuel);
      if (error != nullptr) {
        return Error(error);
      }
      return fuel;
    }

    /// Replaces the embedder's data kept in the store.
    void set_data(std::any data) const { get_data() = std::move(data); }

    /// The embedder's data kept in the store (empty until `set_data`).
    std::any &get_data() const {
      return *static_cast<std::any *>(wasmtime_context_get_data(ptr_));
    }

#ifdef WASMTIME_FEATURE_WASI
    /// Gives the store its WASI state (used by functions `Linker::define_wasi` defines).
    [[nodiscard]] Result<std::monostate> set_wasi(WasiConfig config) {
      wasmtime_error_t *error = wasmtime_context_set_wasi(ptr_, config.release());
      if (error != nullptr) {
        return Error(error);
      }
      return std::monostate();
    }
#endif

    /// Interrupts WebAssembly once the engine's epoch is `ticks_beyond_current` past its
    /// current value.
    void set_epoch_deadline(uint64_t ticks_beyond_current) {
      wasmtime_context_set_epoch_deadline(ptr_, ticks_beyond_current);
    }

    /// The C context.
    wasmtime_context_t *raw_context() { return ptr_; }
    /// The C context.
    wasmtime_context_t *capi() const { return ptr_; }
  };

  /// This store's context.
  Context context() { return Context(*this); }

  /// Caps what the store's instances may create (-1 leaves a limit unset): bytes of linear
  /// memory, table elements, instances, tables and memories.
  void limiter(int64_t memory_size, int64_t table_elements, int64_t instances, int64_t tables,
               int64_t memories) {
    wasmtime_store_limiter(ptr_.get(), memory_size, table_elements, instances, tables,
                           memories);
  }

  /// Collects unreachable `externref`s (see `Context::gc`).
  Result<std::monostate> gc() { return context().gc(); }

  /// The C store (still owned by this object).
  wasmtime_store_t *capi() const { return ptr_.get(); }
};

/* ---- Values ------------------------------------------------------------------------------ */

/// A host value WebAssembly can hold as an `externref`: any C++ value, kept in a `std::any`
/// owned by the store.
class ExternRef {
  wasmtime_externref_t val_;

  static void finalize(void *data) { delete static_cast<std::any *>(data); }

public:
  /// Wraps a C externref (a non-null one).
  explicit ExternRef(wasmtime_externref_t raw) : val_(raw) {}

  /// A new externref holding `data` (copied or moved into a `std::any`).
  template <typename T> explicit ExternRef(Store::Context cx, T data) : val_{} {
    std::any *boxed = new std::any(std::move(data));
    // On failure the C API runs the finalizer itself, freeing `boxed`.
    if (!wasmtime_externref_new(cx.capi(), boxed, finalize, &val_)) {
      std::fprintf(stderr, "wasmtime.hh: failed to allocate an externref\n");
      std::abort();
    }
  }

  /// Another reference to the same host value, rooted separately.
  ExternRef clone(Store::Context cx) const {
    wasmtime_externref_t out;
    wasmtime_externref_clone(cx.capi(), &val_, &out);
    return ExternRef(out);
  }

  /// The host value.
  std::any &data(Store::Context cx) const {
    return *static_cast<std::any *>(wasmtime_externref_data(cx.capi(), &val_));
  }

  /// Releases this handle's root: the value may then be collected if nothing else holds it.
  /// The handle (and copies of it) must not be used afterwards.
  void unroot(Store::Context cx) { wasmtime_externref_unroot(cx.capi(), &val_); }

  /// The C externref.
  const wasmtime_externref_t &capi() const { return val_; }
  /// The C externref.
  const wasmtime_externref_t *raw() const { return &val_; }
};

/// A `v128` value: 16 little-endian bytes.
struct V128 {
  /// The bytes.
  wasmtime_v128 v128;

  /// All zeros.
  V128() : v128{} {}
  /// From the C representation.
  V128(const wasmtime_v128 &v) : v128{} { std::memcpy(&v128[0], &v[0], sizeof(wasmtime_v128)); }
};

/// A WebAssembly value of any type.
class Val {
  wasmtime_val_t val_;

public:
  /// The `i32` 0.
  Val() : val_{} {
    val_.kind = WASMTIME_I32;
    val_.of.i32 = 0;
  }
  /// From the C representation.
  Val(const wasmtime_val_t &val) : val_(val) {}
  /// An `i32`.
  Val(int32_t i32) : val_{} {
    val_.kind = WASMTIME_I32;
    val_.of.i32 = i32;
  }
  /// An `i64`.
  Val(int64_t i64) : val_{} {
    val_.kind = WASMTIME_I64;
    val_.of.i64 = i64;
  }
  /// An `f32`.
  Val(float f32) : val_{} {
    val_.kind = WASMTIME_F32;
    val_.of.f32 = f32;
  }
  /// An `f64`.
  Val(double f64) : val_{} {
    val_.kind = WASMTIME_F64;
    val_.of.f64 = f64;
  }
  /// A `v128`.
  Val(const V128 &v128) : val_{} {
    val_.kind = WASMTIME_V128;
    std::memcpy(&val_.of.v128[0], &v128.v128[0], sizeof(wasmtime_v128));
  }
  /// A `funcref`, null if `func` is empty.
  Val(std::optional<Func> func);
  /// A non-null `funcref`.
  Val(Func func);
  /// An `externref`, null if `ref` is empty.
  Val(std::optional<ExternRef> ref) : val_{} {
    val_.kind = WASMTIME_EXTERNREF;
    if (ref) {
      val_.of.externref = ref->capi();
    } else {
      wasmtime_externref_set_null(&val_.of.externref);
    }
  }
  /// A non-null `externref`.
  Val(ExternRef ref);

  /// The value's kind.
  ValKind kind() const {
    switch (val_.kind) {
    case WASMTIME_I32:
      return ValKind::I32;
    case WASMTIME_I64:
      return ValKind::I64;
    case WASMTIME_F32:
      return ValKind::F32;
    case WASMTIME_F64:
      return ValKind::F64;
    case WASMTIME_V128:
      return ValKind::V128;
    case WASMTIME_FUNCREF:
      return ValKind::FuncRef;
    case WASMTIME_EXTERNREF:
      return ValKind::ExternRef;
    default:
      break;
    }
    wrong_kind("a known kind");
  }

  /// The `i32`; aborts the process if this is not one.
  int32_t i32() const {
    expect(WASMTIME_I32, "i32");
    return val_.of.i32;
  }
  /// The `i64`; aborts the process if this is not one.
  int64_t i64() const {
    expect(WASMTIME_I64, "i64");
    return val_.of.i64;
  }
  /// The `f32`; aborts the process if this is not one.
  float f32() const {
    expect(WASMTIME_F32, "f32");
    return val_.of.f32;
  }
  /// The `f64`; aborts the process if this is not one.
  double f64() const {
    expect(WASMTIME_F64, "f64");
    return val_.of.f64;
  }
  /// The `v128`; aborts the process if this is not one.
  V128 v128() const {
    expect(WASMTIME_V128, "v128");
    return V128(val_.of.v128);
  }
  /// The `externref` (empty for null); aborts the process if this is not one.
  std::optional<ExternRef> externref() const {
    expect(WASMTIME_EXTERNREF, "externref");
    if (wasmtime_externref_is_null(&val_.of.externref)) {
      return std::nullopt;
    }
    return ExternRef(val_.of.externref);
  }
  /// The `externref` (empty for null); aborts the process if this is not one.
  std::optional<ExternRef> externref(Store::Context) const { return externref(); }
  /// The `funcref` (empty for null); aborts the process if this is not one.
  std::optional<Func> funcref() const;

  /// The C value.
  const wasmtime_val_t &capi() const { return val_; }
  /// The C value.
  wasmtime_val_t *capi_mut() { return &val_; }

private:
  [[noreturn]] static void wrong_kind(const char *wanted) {
    std::fprintf(stderr, "wasmtime.hh: Val is not %s\n", wanted);
    std::abort();
  }
  void expect(wasmtime_valkind_t kind, const char *name) const {
    if (val_.kind != kind) {
      wrong_kind(name);
    }
  }
};

/* ---- Functions --------------------------------------------------------------------------- */

/// Given to host functions: the calling instance's exports and the store's context.
class Caller {
  wasmtime_caller_t *ptr_;

public:
  /// Wraps a C caller.
  explicit Caller(wasmtime_caller_t *ptr) : ptr_(ptr) {}
  /// An export of the calling instance (typically its `memory`).
  std::optional<std::variant<Func, Global, Memory, Table>> get_export(std::string_view name);
  /// The store's context.
  Store::Context context() { return Store::Context(wasmtime_caller_context(ptr_)); }
  /// The C caller.
  wasmtime_caller_t *capi() const { return ptr_; }
};

inline Store::Context::Context(Caller &caller) : ptr_(wasmtime_caller_context(caller.capi())) {}
inline Store::Context::Context(Caller *caller) : Context(*caller) {}

namespace detail {

/// How a C++ type maps onto a WebAssembly value type, for `Func::wrap` and `TypedFunc`.
template <typename T> struct WasmType {
  static constexpr bool valid = false;
};

#define WASMJIT_HH_NUMERIC_TYPE(native, valkind, ckind, field)                                 \
  template <> struct WasmType<native> {                                                        \
    static constexpr bool valid = true;                                                        \
    static constexpr ValKind kind = ValKind::valkind;                                          \
    static void store(const native &v, wasmtime_val_t *out) {                                  \
      out->kind = ckind;                                                                       \
      out->of.field = static_cast<decltype(out->of.field)>(v);                                 \
    }                                                                                          \
    static native load(const wasmtime_val_t *in) { return static_cast<native>(in->of.field); } \
  };

WASMJIT_HH_NUMERIC_TYPE(int32_t, I32, WASMTIME_I32, i32)
WASMJIT_HH_NUMERIC_TYPE(uint32_t, I32, WASMTIME_I32, i32)
WASMJIT_HH_NUMERIC_TYPE(int64_t, I64, WASMTIME_I64, i64)
WASMJIT_HH_NUMERIC_TYPE(uint64_t, I64, WASMTIME_I64, i64)
WASMJIT_HH_NUMERIC_TYPE(float, F32, WASMTIME_F32, f32)
WASMJIT_HH_NUMERIC_TYPE(double, F64, WASMTIME_F64, f64)

#undef WASMJIT_HH_NUMERIC_TYPE

template <> struct WasmType<V128> {
  static constexpr bool valid = true;
  static constexpr ValKind kind = ValKind::V128;
  static void store(const V128 &v, wasmtime_val_t *out) {
    out->kind = WASMTIME_V128;
    std::memcpy(&out->of.v128[0], &v.v128[0], sizeof(wasmtime_v128));
  }
  static V128 load(const wasmtime_val_t *in) { return V128(in->of.v128); }
};

template <> struct WasmType<std::optional<ExternRef>> {
  static constexpr bool valid = true;
  static constexpr ValKind kind = ValKind::ExternRef;
  static void store(const std::optional<ExternRef> &v, wasmtime_val_t *out) {
    out->kind = WASMTIME_EXTERNREF;
    if (v) {
      out->of.externref = v->capi();
    } else {
      wasmtime_externref_set_null(&out->of.externref);
    }
  }
  static std::optional<ExternRef> load(const wasmtime_val_t *in) {
    if (wasmtime_externref_is_null(&in->of.externref)) {
      return std::nullopt;
    }
    return ExternRef(in->of.externref);
  }
};

// `WasmType<std::optional<Func>>` follows the definition of `Func`.

/// A list of WebAssembly types: one type, `std::monostate` (none) or a `std::tuple`.
template <typename T> struct WasmTypeList {
  static constexpr bool valid = WasmType<T>::valid;
  static constexpr size_t size = 1;
  static bool matches(const ValType::ListRef &types) {
    return types.size() == 1 && types.begin()->kind() == WasmType<T>::kind;
  }
  static void store(const T &t, wasmtime_val_t *out) { WasmType<T>::store(t, out); }
  static T load(const wasmtime_val_t *in) { return WasmType<T>::load(in); }
  static std::vector<ValType> types() { return {ValType(WasmType<T>::kind)}; }
};

template <> struct WasmTypeList<std::monostate> {
  static constexpr bool valid = true;
  static constexpr size_t size = 0;
  static bool matches(const ValType::ListRef &types) { return types.size() == 0; }
  static void store(const std::monostate &, wasmtime_val_t *) {}
  static std::monostate load(const wasmtime_val_t *) { return std::monostate(); }
  static std::vector<ValType> types() { return {}; }
};

template <typename... T> struct WasmTypeList<std::tuple<T...>> {
  static constexpr bool valid = (WasmType<T>::valid && ...);
  static constexpr size_t size = sizeof...(T);
  static bool matches(const ValType::ListRef &types) {
    if (types.size() != size) {
      return false;
    }
    std::array<ValKind, sizeof...(T)> want = {WasmType<T>::kind...};
    size_t i = 0;
    for (const ValType::Ref &ty : types) {
      if (ty.kind() != want[i++]) {
        return false;
      }
    }
    return true;
  }
  static void store(const std::tuple<T...> &t, wasmtime_val_t *out) {
    store_at(t, out, std::index_sequence_for<T...>());
  }
  static std::tuple<T...> load(const wasmtime_val_t *in) {
    return load_at(in, std::index_sequence_for<T...>());
  }
  static std::vector<ValType> types() { return {ValType(WasmType<T>::kind)...}; }

private:
  template <size_t... I>
  static void store_at(const std::tuple<T...> &t, wasmtime_val_t *out,
                       std::index_sequence<I...>) {
    (WasmType<T>::store(std::get<I>(t), &out[I]), ...);
    (void)out;
  }
  template <size_t... I>
  static std::tuple<T...> load_at(const wasmtime_val_t *in, std::index_sequence<I...>) {
    (void)in;
    return std::tuple<T...>(WasmType<T>::load(&in[I])...);
  }
};

/// What a host function given to `Func::wrap` may return: nothing, one value, a tuple, or a
/// `Result<_, Trap>` of one of those.
template <typename R> struct WasmHostRet {
  using Results = WasmTypeList<R>;
  template <typename G> static std::optional<Trap> invoke(G &&g, wasmtime_val_t *out) {
    Results::store(g(), out);
    return std::nullopt;
  }
};

template <> struct WasmHostRet<void> {
  using Results = WasmTypeList<std::monostate>;
  template <typename G> static std::optional<Trap> invoke(G &&g, wasmtime_val_t *) {
    g();
    return std::nullopt;
  }
};

template <> struct WasmHostRet<std::monostate> {
  using Results = WasmTypeList<std::monostate>;
  template <typename G> static std::optional<Trap> invoke(G &&g, wasmtime_val_t *) {
    g();
    return std::nullopt;
  }
};

template <typename R> struct WasmHostRet<Result<R, Trap>> {
  using Results = WasmTypeList<R>;
  template <typename G> static std::optional<Trap> invoke(G &&g, wasmtime_val_t *out) {
    Result<R, Trap> ret = g();
    if (!ret) {
      return std::optional<Trap>(ret.err());
    }
    Results::store(ret.ok(), out);
    return std::nullopt;
  }
};

/// The signature of a host function: parameters after an optional leading `Caller`.
template <bool TakesCaller, typename R, typename... A> struct WasmHostSig {
  using Params = WasmTypeList<std::tuple<A...>>;
  using Results = typename WasmHostRet<R>::Results;

  template <typename F>
  static std::optional<Trap> invoke(F &f, Caller caller, const wasmtime_val_t *args,
                                    wasmtime_val_t *results) {
    std::tuple<A...> params = Params::load(args);
    return std::apply(
        [&](auto &...a) {
          return WasmHostRet<R>::invoke(
              [&]() -> R {
                if constexpr (TakesCaller) {
                  return f(caller, a...);
                } else {
                  (void)caller;
                  return f(a...);
                }
              },
              results);
        },
        params);
  }
};

template <typename F, typename = void> struct WasmHostFunc {
  struct Invalid {
    static constexpr bool valid = false;
  };
  using Params = Invalid;
  using Results = Invalid;
};

template <typename R, typename... A>
struct WasmHostFunc<R (*)(A...)> : WasmHostSig<false, R, A...> {};
template <typename R, typename... A>
struct WasmHostFunc<R (*)(Caller, A...)> : WasmHostSig<true, R, A...> {};
template <typename R, typename C, typename... A>
struct WasmHostFunc<R (C::*)(A...)> : WasmHostSig<false, R, A...> {};
template <typename R, typename C, typename... A>
struct WasmHostFunc<R (C::*)(A...) const> : WasmHostSig<false, R, A...> {};
template <typename R, typename C, typename... A>
struct WasmHostFunc<R (C::*)(Caller, A...)> : WasmHostSig<true, R, A...> {};
template <typename R, typename C, typename... A>
struct WasmHostFunc<R (C::*)(Caller, A...) const> : WasmHostSig<true, R, A...> {};
template <typename F>
struct WasmHostFunc<F, std::void_t<decltype(&F::operator())>>
    : WasmHostFunc<decltype(&F::operator())> {};

/// The message of an exception leaving a host function.
inline std::string exception_message() {
  try {
    throw;
  } catch (const std::exception &e) {
    return std::string("host function threw: ") + e.what();
  } catch (...) {
    return "host function threw an exception";
  }
}

} // namespace detail

/// An item an instance can import or export.
using Extern = std::variant<Func, Global, Memory, Table>;

/// A function of a store: exported by an instance or defined by the host.
class Func {
  wasmtime_func_t func_;

  template <typename F>
  static wasm_trap_t *raw_callback(void *env, wasmtime_caller_t *caller,
                                   const wasmtime_val_t *args, size_t nargs,
                                   wasmtime_val_t *results, size_t nresults) {
    try {
      F *f = static_cast<F *>(env);
      std::vector<Val> params(args, args + nargs);
      std::vector<Val> rets(nresults);
      Result<std::monostate, Trap> outcome =
          (*f)(Caller(caller), Span<const Val>(params.data(), params.size()),
               Span<Val>(rets.data(), rets.size()));
      if (!outcome) {
        return outcome.err().release();
      }
      for (size_t i = 0; i < nresults; i++) {
        results[i] = rets[i].capi();
      }
      return nullptr;
    } catch (...) {
      std::string msg = detail::exception_message();
      return wasmtime_trap_new(msg.data(), msg.size());
    }
  }

  template <typename F>
  static wasm_trap_t *wrapped_callback(void *env, wasmtime_caller_t *caller,
                                       const wasmtime_val_t *args, size_t,
                                       wasmtime_val_t *results, size_t) {
    try {
      F *f = static_cast<F *>(env);
      std::optional<Trap> trap =
          detail::WasmHostFunc<F>::invoke(*f, Caller(caller), args, results);
      if (trap) {
        return trap->release();
      }
      return nullptr;
    } catch (...) {
      std::string msg = detail::exception_message();
      return wasmtime_trap_new(msg.data(), msg.size());
    }
  }

  template <typename F> static void raw_finalize(void *env) { delete static_cast<F *>(env); }

  template <typename F> static FuncType wrapped_type() {
    using HostFunc = detail::WasmHostFunc<F>;
    return FuncType::from_iters(HostFunc::Params::types(), HostFunc::Results::types());
  }

  friend class Linker;

public:
  /// From the C representation.
  Func(wasmtime_func_t func) : func_(func) {}

  /// A host function of type `ty`. `f` is called as
  /// `Result<std::monostate, Trap> f(Caller, Span<const Val> params, Span<Val> results)`
  /// and writes one value of the right type into each result.
  template <typename F,
            std::enable_if_t<std::is_invocable_r_v<Result<std::monostate, Trap>, F, Caller,
                                                   Span<const Val>, Span<Val>>,
                             bool> = true>
  Func(Store::Context cx, const FuncType &ty, F f) : func_{} {
    wasmtime_func_new(cx.capi(), ty.capi(), raw_callback<F>, new F(std::move(f)),
                      raw_finalize<F>, &func_);
  }

  /// A host function whose WebAssembly type follows from the C++ signature of `f`: an
  /// optional leading `Caller`, then parameters among `int32_t`, `uint32_t`, `int64_t`,
  /// `uint64_t`, `float`, `double`, `V128`, `std::optional<Func>`,
  /// `std::optional<ExternRef>`; returning `void`, one of those, a `std::tuple` of them, or
  /// a `Result<_, Trap>` of any of these.
  template <typename F,
            std::enable_if_t<detail::WasmHostFunc<F>::Params::valid, bool> = true,
            std::enable_if_t<detail::WasmHostFunc<F>::Results::valid, bool> = true>
  static Func wrap(Store::Context cx, F f) {
    FuncType ty = wrapped_type<F>();
    wasmtime_func_t func;
    wasmtime_func_new(cx.capi(), ty.capi(), wrapped_callback<F>, new F(std::move(f)),
                      raw_finalize<F>, &func);
    return Func(func);
  }

  /// Calls the function with the values in `[begin, end)`.
  template <typename I>
  [[nodiscard]] TrapResult<std::vector<Val>> call(Store::Context cx, const I &begin,
                                                  const I &end) const {
    std::vector<wasmtime_val_t> params;
    for (I it = begin; it != end; ++it) {
      params.push_back(Val(*it).capi());
    }
    wasm_functype_t *ty = wasmtime_func_type(cx.capi(), &func_);
    size_t nresults = wasm_functype_results(ty)->size;
    wasm_functype_delete(ty);
    std::vector<wasmtime_val_t> results(nresults);
    wasm_trap_t *trap = nullptr;
    wasmtime_error_t *error = wasmtime_func_call(cx.capi(), &func_, params.data(),
                                                 params.size(), results.data(), nresults, &trap);
    if (error != nullptr) {
      return TrapError(Error(error));
    }
    if (trap != nullptr) {
      return TrapError(Trap(trap));
    }
    return std::vector<Val>(results.begin(), results.end());
  }

  /// Calls the function with `params`.
  [[nodiscard]] TrapResult<std::vector<Val>> call(Store::Context cx,
                                                  const std::vector<Val> &params) const {
    return call(cx, params.begin(), params.end());
  }

  /// Calls the function with `params`.
  [[nodiscard]] TrapResult<std::vector<Val>> call(Store::Context cx,
                                                  std::initializer_list<Val> params) const {
    return call(cx, params.begin(), params.end());
  }

  /// The function's type.
  FuncType type(Store::Context cx) const {
    return FuncType(wasmtime_func_type(cx.capi(), &func_));
  }

  /// A view of the function with statically known parameter and result types (each one
  /// type, `std::monostate` for none, or a `std::tuple`); a trap if they do not match.
  template <typename Params, typename Results,
            std::enable_if_t<detail::WasmTypeList<Params>::valid, bool> = true,
            std::enable_if_t<detail::WasmTypeList<Results>::valid, bool> = true>
  [[nodiscard]] Result<TypedFunc<Params, Results>, Trap> typed(Store::Context cx) const {
    FuncType ty = type(cx);
    if (!detail::WasmTypeList<Params>::matches(ty->params()) ||
        !detail::WasmTypeList<Results>::matches(ty->results())) {
      return Trap("static type for this function does not match actual type");
    }
    return TypedFunc<Params, Results>(*this);
  }

  /// The C function.
  const wasmtime_func_t &capi() const { return func_; }
  /// The C function.
  const wasmtime_func_t &raw_func() const { return func_; }
};

/// A function whose parameter and result types are known statically; made by `Func::typed`.
template <typename Params, typename Results> class TypedFunc {
  friend class Func;
  Func f_;
  explicit TypedFunc(Func f) : f_(f) {}

public:
  /// Calls the function.
  [[nodiscard]] TrapResult<Results> call(Store::Context cx, Params params) const {
    constexpr size_t nparams = detail::WasmTypeList<Params>::size;
    constexpr size_t nresults = detail::WasmTypeList<Results>::size;
    std::array<wasmtime_val_t, (nparams > 0 ? nparams : 1)> args{};
    std::array<wasmtime_val_t, (nresults > 0 ? nresults : 1)> rets{};
    detail::WasmTypeList<Params>::store(params, args.data());
    wasm_trap_t *trap = nullptr;
    wasmtime_error_t *error = wasmtime_func_call(cx.capi(), &f_.capi(), args.data(), nparams,
                                                 rets.data(), nresults, &trap);
    if (error != nullptr) {
      return TrapError(Error(error));
    }
    if (trap != nullptr) {
      return TrapError(Trap(trap));
    }
    return detail::WasmTypeList<Results>::load(rets.data());
  }

  /// The untyped function.
  const Func &func() const { return f_; }
};

inline Val::Val(std::optional<Func> func) : val_{} {
  val_.kind = WASMTIME_FUNCREF;
  if (func) {
    val_.of.funcref = func->capi();
  } else {
    wasmtime_funcref_set_null(&val_.of.funcref);
  }
}

inline Val::Val(Func func) : Val(std::optional<Func>(func)) {}

inline Val::Val(ExternRef ref) : Val(std::optional<ExternRef>(std::move(ref))) {}

inline std::optional<Func> Val::funcref() const {
  expect(WASMTIME_FUNCREF, "funcref");
  if (wasmtime_funcref_is_null(&val_.of.funcref)) {
    return std::nullopt;
  }
  return Func(val_.of.funcref);
}

namespace detail {

template <> struct WasmType<std::optional<Func>> {
  static constexpr bool valid = true;
  static constexpr ValKind kind = ValKind::FuncRef;
  static void store(const std::optional<Func> &v, wasmtime_val_t *out) { *out = Val(v).capi(); }
  static std::optional<Func> load(const wasmtime_val_t *in) { return Val(*in).funcref(); }
};

} // namespace detail

/* ---- Globals, tables, memories ----------------------------------------------------------- */

/// A global of a store.
class Global {
  wasmtime_global_t global_;

public:
  /// From the C representation.
  Global(wasmtime_global_t global) : global_(global) {}

  /// A new host global of type `ty` holding `init`.
  [[nodiscard]] static Result<Global> create(Store::Context cx, const GlobalType &ty,
                                             const Val &init) {
    wasmtime_global_t global;
    wasmtime_error_t *error = wasmtime_global_new(cx.capi(), ty.capi(), &init.capi(), &global);
    if (error != nullptr) {
      return Error(error);
    }
    return Global(global);
  }

  /// The global's type.
  GlobalType type(Store::Context cx) const {
    return GlobalType(wasmtime_global_type(cx.capi(), &global_));
  }

  /// The global's value.
  Val get(Store::Context cx) const {
    wasmtime_val_t out;
    wasmtime_global_get(cx.capi(), &global_, &out);
    return Val(out);
  }

  /// Sets the global; an error if it is immutable or `val` has the wrong type.
  [[nodiscard]] Result<std::monostate> set(Store::Context cx, const Val &val) const {
    wasmtime_error_t *error = wasmtime_global_set(cx.capi(), &global_, &val.capi());
    if (error != nullptr) {
      return Error(error);
    }
    return std::monostate();
  }

  /// The C global.
  const wasmtime_global_t &capi() const { return global_; }
};

/// A table of a store.
class Table {
  wasmtime_table_t table_;

public:
  /// From the C representation.
  Table(wasmtime_table_t table) : table_(table) {}

  /// A new host table of type `ty`, every element `init`.
  [[nodiscard]] static Result<Table> create(Store::Context cx, const TableType &ty,
                                            const Val &init) {
    wasmtime_table_t table;
    wasmtime_error_t *error = wasmtime_table_new(cx.capi(), ty.capi(), &init.capi(), &table);
    if (error != nullptr) {
      return Error(error);
    }
    return Table(table);
  }

  /// The table's type.
  TableType type(Store::Context cx) const {
    return TableType(wasmtime_table_type(cx.capi(), &table_));
  }

  /// The number of elements.
  uint64_t size(Store::Context cx) const { return wasmtime_table_size(cx.capi(), &table_); }

  /// The element at `idx`; empty if out of bounds.
  std::optional<Val> get(Store::Context cx, uint64_t idx) const {
    wasmtime_val_t out;
    if (wasmtime_table_get(cx.capi(), &table_, idx, &out)) {
      return Val(out);
    }
    return std::nullopt;
  }

  /// Sets the element at `idx`; an error if out of bounds or of the wrong type.
  [[nodiscard]] Result<std::monostate> set(Store::Context cx, uint64_t idx,
                                           const Val &val) const {
    wasmtime_error_t *error = wasmtime_table_set(cx.capi(), &table_, idx, &val.capi());
    if (error != nullptr) {
      return Error(error);
    }
    return std::monostate();
  }

  /// Adds `delta` elements set to `init`; returns the previous size.
  [[nodiscard]] Result<uint64_t> grow(Store::Context cx, uint64_t delta, const Val &init) const {
    uint64_t prev = 0;
    wasmtime_error_t *error = wasmtime_table_grow(cx.capi(), &table_, delta, &init.capi(), &prev);
    if (error != nullptr) {
      return Error(error);
    }
    return prev;
  }

  /// The C table.
  const wasmtime_table_t &capi() const { return table_; }
};

/// A linear memory of a store.
class Memory {
  wasmtime_memory_t memory_;

public:
  /// From the C representation.
  Memory(wasmtime_memory_t memory) : memory_(memory) {}

  /// A new host memory of type `ty`.
  [[nodiscard]] static Result<Memory> create(Store::Context cx, const MemoryType &ty) {
    wasmtime_memory_t memory;
    wasmtime_error_t *error = wasmtime_memory_new(cx.capi(), ty.capi(), &memory);
    if (error != nullptr) {
      return Error(error);
    }
    return Memory(memory);
  }

  /// The memory's type.
  MemoryType type(Store::Context cx) const {
    return MemoryType(wasmtime_memory_type(cx.capi(), &memory_));
  }

  /// The size in 64 KiB pages.
  uint64_t size(Store::Context cx) const { return wasmtime_memory_size(cx.capi(), &memory_); }

  /// The memory's bytes. Growing the memory or calling WebAssembly may move them:
  /// take the span again afterwards.
  Span<uint8_t> data(Store::Context cx) const {
    uint8_t *base = wasmtime_memory_data(cx.capi(), &memory_);
    size_t len = wasmtime_memory_data_size(cx.capi(), &memory_);
    return Span<uint8_t>(base, len);
  }

  /// Grows by `delta` pages; returns the previous size in pages.
  [[nodiscard]] Result<uint64_t> grow(Store::Context cx, uint64_t delta) const {
    uint64_t prev = 0;
    wasmtime_error_t *error = wasmtime_memory_grow(cx.capi(), &memory_, delta, &prev);
    if (error != nullptr) {
      return Error(error);
    }
    return prev;
  }

  /// The C memory.
  const wasmtime_memory_t &capi() const { return memory_; }
};

namespace detail {

inline std::optional<Extern> extern_from_c(const wasmtime_extern_t &e) {
  switch (e.kind) {
  case WASMTIME_EXTERN_FUNC:
    return Extern(Func(e.of.func));
  case WASMTIME_EXTERN_GLOBAL:
    return Extern(Global(e.of.global));
  case WASMTIME_EXTERN_TABLE:
    return Extern(Table(e.of.table));
  case WASMTIME_EXTERN_MEMORY:
    return Extern(Memory(e.of.memory));
  default:
    return std::nullopt;
  }
}

inline wasmtime_extern_t extern_to_c(const Extern &e) {
  wasmtime_extern_t raw{};
  if (const Func *func = std::get_if<Func>(&e)) {
    raw.kind = WASMTIME_EXTERN_FUNC;
    raw.of.func = func->capi();
  } else if (const Global *global = std::get_if<Global>(&e)) {
    raw.kind = WASMTIME_EXTERN_GLOBAL;
    raw.of.global = global->capi();
  } else if (const Table *table = std::get_if<Table>(&e)) {
    raw.kind = WASMTIME_EXTERN_TABLE;
    raw.of.table = table->capi();
  } else {
    raw.kind = WASMTIME_EXTERN_MEMORY;
    raw.of.memory = std::get<Memory>(e).capi();
  }
  return raw;
}

} // namespace detail

inline std::optional<Extern> Caller::get_export(std::string_view name) {
  wasmtime_extern_t item;
  if (wasmtime_caller_export_get(ptr_, name.data(), name.size(), &item)) {
    std::optional<Extern> out = detail::extern_from_c(item);
    wasmtime_extern_delete(&item);
    return out;
  }
  return std::nullopt;
}

/* ---- Instances and linking --------------------------------------------------------------- */

/// An instantiated module of a store.
class Instance {
  wasmtime_instance_t instance_;

public:
  /// From the C representation.
  Instance(wasmtime_instance_t instance) : instance_(instance) {}

  /// Instantiates `m` with `imports`, given in the order of `m.imports()`.
  [[nodiscard]] static TrapResult<Instance> create(Store::Context cx, const Module &m,
                                                   const std::vector<Extern> &imports) {
    std::vector<wasmtime_extern_t> raw;
    raw.reserve(imports.size());
    for (const Extern &item : imports) {
      raw.push_back(detail::extern_to_c(item));
    }
    wasmtime_instance_t instance;
    wasm_trap_t *trap = nullptr;
    wasmtime_error_t *error =
        wasmtime_instance_new(cx.capi(), m.capi(), raw.data(), raw.size(), &instance, &trap);
    if (error != nullptr) {
      return TrapError(Error(error));
    }
    if (trap != nullptr) {
      return TrapError(Trap(trap));
    }
    return Instance(instance);
  }

  /// The export called `name`, if there is one.
  std::optional<Extern> get(Store::Context cx, std::string_view name) {
    wasmtime_extern_t item;
    if (!wasmtime_instance_export_get(cx.capi(), &instance_, name.data(), name.size(), &item)) {
      return std::nullopt;
    }
    std::optional<Extern> out = detail::extern_from_c(item);
    wasmtime_extern_delete(&item);
    return out;
  }

  /// The `idx`-th export and its name, if there are that many.
  std::optional<std::pair<std::string_view, Extern>> get(Store::Context cx, size_t idx) {
    wasmtime_extern_t item;
    char *name = nullptr;
    size_t len = 0;
    if (!wasmtime_instance_export_nth(cx.capi(), &instance_, idx, &name, &len, &item)) {
      return std::nullopt;
    }
    std::optional<Extern> out = detail::extern_from_c(item);
    wasmtime_extern_delete(&item);
    if (!out) {
      return std::nullopt;
    }
    return std::make_pair(std::string_view(name, len), std::move(*out));
  }

  /// The C instance.
  const wasmtime_instance_t &capi() const { return instance_; }
};

/// Resolves imports by name: items are defined under (module, name) and modules are
/// instantiated against them.
class Linker {
  struct deleter {
    void operator()(wasmtime_linker_t *p) const { wasmtime_linker_delete(p); }
  };
  std::unique_ptr<wasmtime_linker_t, deleter> ptr_;

  static Result<std::monostate> check(wasmtime_error_t *error) {
    if (error != nullptr) {
      return Error(error);
    }
    return std::monostate();
  }

public:
  /// An empty linker for modules of `engine`.
  explicit Linker(Engine &engine) : ptr_(wasmtime_linker_new(engine.capi())) {}

  /// Whether a later definition may replace an earlier one of the same name (default: no).
  void allow_shadowing(bool allow) { wasmtime_linker_allow_shadowing(ptr_.get(), allow); }

  /// Defines `item` as `module`.`name`.
  [[nodiscard]] Result<std::monostate> define(Store::Context cx, std::string_view module,
                                              std::string_view name, const Extern &item) {
    wasmtime_extern_t raw = detail::extern_to_c(item);
    return check(wasmtime_linker_define(ptr_.get(), cx.capi(), module.data(), module.size(),
                                        name.data(), name.size(), &raw));
  }

#ifdef WASMTIME_FEATURE_WASI
  /// Defines the WASI preview 1 functions (their state comes from `Store::Context::set_wasi`).
  [[nodiscard]] Result<std::monostate> define_wasi() {
    return check(wasmtime_linker_define_wasi(ptr_.get()));
  }
#endif

  /// Defines every export of `instance` under the module name `name`.
  [[nodiscard]] Result<std::monostate> define_instance(Store::Context cx, std::string_view name,
                                                       Instance instance) {
    return check(wasmtime_linker_define_instance(ptr_.get(), cx.capi(), name.data(), name.size(),
                                                 &instance.capi()));
  }

  /// Instantiates `m`, its imports resolved from this linker's definitions.
  [[nodiscard]] TrapResult<Instance> instantiate(Store::Context cx, const Module &m) {
    wasmtime_instance_t instance;
    wasm_trap_t *trap = nullptr;
    wasmtime_error_t *error =
        wasmtime_linker_instantiate(ptr_.get(), cx.capi(), m.capi(), &instance, &trap);
    if (error != nullptr) {
      return TrapError(Error(error));
    }
    if (trap != nullptr) {
      return TrapError(Trap(trap));
    }
    return Instance(instance);
  }

  /// Defines the exports of `m` under the module name `name` (commands get a fresh instance
  /// per call, reactors are instantiated once).
  [[nodiscard]] Result<std::monostate> module(Store::Context cx, std::string_view name,
                                              const Module &m) {
    return check(
        wasmtime_linker_module(ptr_.get(), cx.capi(), name.data(), name.size(), m.capi()));
  }

  /// The item defined as `module`.`name`, if any.
  [[nodiscard]] std::optional<Extern> get(Store::Context cx, std::string_view module,
                                          std::string_view name) {
    wasmtime_extern_t item;
    if (!wasmtime_linker_get(ptr_.get(), cx.capi(), module.data(), module.size(), name.data(),
                             name.size(), &item)) {
      return std::nullopt;
    }
    std::optional<Extern> out = detail::extern_from_c(item);
    wasmtime_extern_delete(&item);
    return out;
  }

  /// Defines a host function of type `ty` as `module`.`name`, in the style of the `Func`
  /// constructor; it exists in every store the linker instantiates into.
  template <typename F,
            std::enable_if_t<std::is_invocable_r_v<Result<std::monostate, Trap>, F, Caller,
                                                   Span<const Val>, Span<Val>>,
                             bool> = true>
  [[nodiscard]] Result<std::monostate> func_new(std::string_view module, std::string_view name,
                                                const FuncType &ty, F f) {
    return check(wasmtime_linker_define_func(ptr_.get(), module.data(), module.size(),
                                             name.data(), name.size(), ty.capi(),
                                             Func::raw_callback<F>, new F(std::move(f)),
                                             Func::raw_finalize<F>));
  }

  /// Defines a host function as `module`.`name`, in the style of `Func::wrap`.
  template <typename F,
            std::enable_if_t<detail::WasmHostFunc<F>::Params::valid, bool> = true,
            std::enable_if_t<detail::WasmHostFunc<F>::Results::valid, bool> = true>
  [[nodiscard]] Result<std::monostate> func_wrap(std::string_view module, std::string_view name,
                                                 F f) {
    FuncType ty = Func::wrapped_type<F>();
    return check(wasmtime_linker_define_func(ptr_.get(), module.data(), module.size(),
                                             name.data(), name.size(), ty.capi(),
                                             Func::wrapped_callback<F>, new F(std::move(f)),
                                             Func::raw_finalize<F>));
  }

  /// The default export of module `name` (its `""` export or `_start`), as a function.
  [[nodiscard]] Result<Func> get_default(Store::Context cx, std::string_view name) {
    wasmtime_func_t func;
    wasmtime_error_t *error =
        wasmtime_linker_get_default(ptr_.get(), cx.capi(), name.data(), name.size(), &func);
    if (error != nullptr) {
      return Error(error);
    }
    return Func(func);
  }

  /// The C linker (still owned by this object).
  wasmtime_linker_t *capi() const { return ptr_.get(); }
};

} // namespace wasmtime

#endif // WASMTIME_HH
