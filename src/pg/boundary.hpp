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
//  * C++ → PostgreSQL: guard(f) runs f inside PG_TRY. An ereport(ERROR) in f is caught, its
//    ErrorData copied (SQLSTATE, message, detail, hint, context all kept), the error state
//    flushed, and a PgError C++ exception thrown from the guard's own frame. f must be a thin
//    call into PostgreSQL that owns no C++ object with a destructor: a longjmp out of f skips
//    f's frames.
//
// A PgError must never be swallowed: after a PostgreSQL error the transaction is unusable
// until it aborts, so the only thing to do is unwind to INSIGHT_FUNCTION and re-raise it.
#pragma once

#include <exception>
#include <type_traits>
#include <utility>

#include "pg/pg_prelude.hpp"

namespace insight::pg {

// A PostgreSQL error caught by guard(). The ErrorData lives in the memory context that was
// current when guard() was entered.
class PgError : public std::exception {
 public:
  explicit PgError(ErrorData* edata) noexcept : edata_(edata) {}
  const char* what() const noexcept override;
  ErrorData* edata() const noexcept { return edata_; }
  int sqlerrcode() const noexcept { return edata_ ? edata_->sqlerrcode : 0; }

 private:
  ErrorData* edata_;
};

namespace detail {
// Called in PG_CATCH: copies the error out of ErrorContext and flushes the error state.
ErrorData* capture_error(MemoryContext context) noexcept;
}  // namespace detail

template <typename F>
auto guard(F&& f) -> decltype(f()) {
  using R = decltype(f());
  MemoryContext context = CurrentMemoryContext;
  ErrorData* volatile edata = nullptr;
  std::exception_ptr cxx_error;
  if constexpr (std::is_void_v<R>) {
    PG_TRY();
    {
      try {
        f();
      } catch (...) {
        cxx_error = std::current_exception();
      }
    }
    PG_CATCH();
    { edata = detail::capture_error(context); }
    PG_END_TRY();
    if (edata != nullptr) throw PgError(edata);
    if (cxx_error) std::rethrow_exception(cxx_error);
  } else {
    // Scalars only (Datum, pointers, integers, bool); volatile because it is written after
    // sigsetjmp (it is only read when no longjmp happened, but the compiler cannot know).
    static_assert(std::is_scalar_v<R>, "guard() returns plain scalar values only");
    volatile R result{};
    PG_TRY();
    {
      try {
        result = f();
      } catch (...) {
        cxx_error = std::current_exception();
      }
    }
    PG_CATCH();
    { edata = detail::capture_error(context); }
    PG_END_TRY();
    if (edata != nullptr) throw PgError(edata);
    if (cxx_error) std::rethrow_exception(cxx_error);
    return result;
  }
}

// CHECK_FOR_INTERRUPTS as a C++ call: a cancel or statement_timeout throws PgError (57014).
void check_interrupts();

// The body of every SQL-callable function runs through this; see INSIGHT_FUNCTION.
Datum call_guarded(Datum (*body)(FunctionCallInfo), FunctionCallInfo fcinfo);

}  // namespace insight::pg

// Defines the SQL-callable C function `fname`; the braces that follow are its C++ body, which
// sees `fcinfo` and returns a Datum.
#define INSIGHT_FUNCTION(fname)                                               \
  static Datum fname##_body(FunctionCallInfo fcinfo);                         \
  extern "C" {                                                                \
  PG_FUNCTION_INFO_V1(fname);                                                 \
  Datum fname(PG_FUNCTION_ARGS) {                                             \
    return ::insight::pg::call_guarded(fname##_body, fcinfo);                 \
  }                                                                           \
  }                                                                           \
  static Datum fname##_body(FunctionCallInfo fcinfo)
