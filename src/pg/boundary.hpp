// The C++/PostgreSQL boundary (docs/architecture.md, "The boundary").
//
// PostgreSQL raises errors with siglongjmp; C++ unwinds with exceptions. Neither may cross the
// other, so there is exactly one crossing in each direction:
//
//  * PostgreSQL → C++: INSIGHT_FUNCTION(name) defines the fmgr entry point `name` as a call of
//    the C++ body inside try/catch. Every exception is copied into plain data inside the catch;
//    only after the try statement has ended — every C++ object of the body destroyed — is it
//    raised with ereport (or, for a PostgreSQL error caught below, re-thrown unchanged).
//
//  * C++ → PostgreSQL: guard(f) runs f inside PG_TRY. An ereport(ERROR) in f is caught, the
//    memory context restored, and a PgError C++ exception thrown from the guard's own frame.
//    The error itself is NOT copied or flushed: it stays pending in PostgreSQL's error state
//    (copying allocates, and an out-of-memory there would longjmp over our C++ frames), and
//    call_guarded() re-throws it unchanged — SQLSTATE, message, detail, hint and context —
//    once the C++ stack is unwound. f must be a thin call into PostgreSQL that owns no C++
//    object with a destructor: a longjmp out of f skips f's frames.
//
// A PgError cannot be lost: while one is pending, call_guarded() re-throws the PostgreSQL
// error whatever happened to the C++ exception on the way up. Code between guard() and
// call_guarded() must not call PostgreSQL: after an error the transaction can only abort.
#pragma once

#include <exception>
#include <type_traits>
#include <utility>
// Before PostgreSQL's headers, which redefine snprintf (src/pg headers use JSON).
#include <nlohmann/json.hpp>

#include "core/common/interrupt.hpp"
#include "pg/pg_prelude.hpp"

namespace insight::pg {

// A PostgreSQL error caught by guard(); the error itself is still pending in PostgreSQL.
class PgError : public std::exception {
 public:
  explicit PgError(int sqlerrcode) noexcept;
  const char* what() const noexcept override { return what_; }
  int sqlerrcode() const noexcept { return sqlerrcode_; }

 private:
  int sqlerrcode_;
  char what_[40];
};

namespace detail {
// True from a guard() catching a PostgreSQL error until call_guarded() re-throws it.
extern bool pg_error_pending;
// Called in PG_CATCH: restores the memory context, notes the pending error. Cannot fail.
int note_pending_error(MemoryContext context) noexcept;
}  // namespace detail

template <typename F>
auto guard(F&& f) -> decltype(f()) {
  using R = decltype(f());
  if constexpr (std::is_void_v<R>) {
    guard([&f] {
      f();
      return true;
    });
  } else {
    // Scalars only (Datum, pointers, integers, bool); volatile because it is written after
    // sigsetjmp (it is only read when no longjmp happened, but the compiler cannot know).
    static_assert(std::is_scalar_v<R>, "guard() returns plain scalar values only");
    MemoryContext context = CurrentMemoryContext;
    volatile int sqlerrcode = 0;
    volatile bool failed = false;
    volatile R result{};
    std::exception_ptr cxx_error;
    PG_TRY();
    {
      try {
        result = f();
      } catch (...) {
        cxx_error = std::current_exception();
      }
    }
    PG_CATCH();
    {
      sqlerrcode = detail::note_pending_error(context);
      failed = true;
    }
    PG_END_TRY();
    if (failed) throw PgError(sqlerrcode);
    if (cxx_error) std::rethrow_exception(cxx_error);
    return result;
  }
}

// CHECK_FOR_INTERRUPTS as a C++ call: a cancel or statement_timeout throws PgError (57014).
void check_interrupts();
// check_interrupts() as the InterruptCheck the core's long-running work polls.
extern const InterruptCheck kInterrupts;

// The body of every SQL-callable function runs through this; see INSIGHT_FUNCTION.
Datum call_guarded(Datum (*body)(FunctionCallInfo), FunctionCallInfo fcinfo);

}  // namespace insight::pg

// Defines the SQL-callable C function `fname`; the braces that follow are its C++ body, which
// sees `fcinfo` and returns a Datum.
#define INSIGHT_FUNCTION(fname)                                                               \
  static Datum fname##_body(FunctionCallInfo fcinfo);                                         \
  extern "C" {                                                                                \
  PG_FUNCTION_INFO_V1(fname);                                                                 \
  Datum fname(PG_FUNCTION_ARGS) { return ::insight::pg::call_guarded(fname##_body, fcinfo); } \
  }                                                                                           \
  static Datum fname##_body([[maybe_unused]] FunctionCallInfo fcinfo)
