#include <cstdio>
#include <cstring>
#include <new>

#include "core/common/error.hpp"

#include "pg/boundary.hpp"

namespace insight::pg {
namespace {

// Everything needed to raise an error, held as plain bytes so that filling it in a catch
// block can neither allocate nor fail. Left uninitialised until capture() fills it: every
// SQL call makes one, and zeroing its 5 KB cost more than some functions' whole work.
struct PendingError {
  char sqlstate[6];
  char message[2048];
  char detail[2048];
  char hint[1024];
};

void copy_text(char* dst, size_t cap, const char* src) noexcept {
  if (src == nullptr) src = "";
  size_t n = std::strlen(src);
  if (n >= cap) n = cap - 1;
  std::memcpy(dst, src, n);
  dst[n] = '\0';
}

void capture(PendingError& pending, const char* sqlstate, const char* message, const char* detail,
             const char* hint) noexcept {
  copy_text(pending.sqlstate, sizeof pending.sqlstate, sqlstate);
  copy_text(pending.message, sizeof pending.message, message);
  copy_text(pending.detail, sizeof pending.detail, detail);
  copy_text(pending.hint, sizeof pending.hint, hint);
}

[[noreturn]] void raise(const PendingError& pending) {
  const char* s = pending.sqlstate;
  const int code = MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4]);
  ereport(ERROR, (errcode(code), errmsg("%s", pending.message),
                  pending.detail[0] ? errdetail("%s", pending.detail) : 0,
                  pending.hint[0] ? errhint("%s", pending.hint) : 0));
  pg_unreachable();
}

}  // namespace

bool detail::pg_error_pending = false;

PgError::PgError(int sqlerrcode) noexcept : sqlerrcode_(sqlerrcode) {
  // unpack_sql_state writes a static buffer: no allocation, cannot fail.
  // snprintf is PostgreSQL's pg_snprintf here (port.h): no allocation.
  snprintf(what_, sizeof what_, "PostgreSQL error %s", unpack_sql_state(sqlerrcode));
}

int detail::note_pending_error(MemoryContext context) noexcept {
  MemoryContextSwitchTo(context);
  pg_error_pending = true;
  return geterrcode();
}

const InterruptCheck kInterrupts = [] { check_interrupts(); };

void check_interrupts() {
  if (unlikely(INTERRUPTS_PENDING_CONDITION())) guard([] { CHECK_FOR_INTERRUPTS(); });
}

Datum call_guarded(Datum (*body)(FunctionCallInfo), FunctionCallInfo fcinfo) {
  PendingError pending;  // NOLINT(cppcoreguidelines-pro-type-member-init): filled by capture()
  Datum result = static_cast<Datum>(0);
  bool ok = false;
  try {
    result = body(fcinfo);
    ok = true;
  } catch (const PgError& e) {
    // re-thrown below from PostgreSQL's own error state (this only if it were not pending)
    capture(pending, unpack_sql_state(e.sqlerrcode()), e.what(), "", "");
  } catch (const insight::Error& e) {
    capture(pending, e.sqlstate(), e.what(), e.detail().c_str(), e.hint().c_str());
  } catch (const std::bad_alloc&) {
    capture(pending, "53200", "out of memory", "", "");
  } catch (const std::exception& e) {
    capture(pending, insight::sqlstate_of(e), e.what(), "", "");
  } catch (...) {
    capture(pending, "XX000", "unknown C++ exception in pg_insight", "", "");
  }
  // Every C++ object of the body is gone now; raising with longjmp is safe.
  if (detail::pg_error_pending) {
    detail::pg_error_pending = false;
    PG_RE_THROW();
  }
  if (ok) return result;
  raise(pending);
}

}  // namespace insight::pg
