// What the row fuzzers do with an input's training or evaluation: any exception but a refusal
// they expect is a bug.
#pragma once

#include <exception>
#include <typeinfo>

#include "core/common/error.hpp"
#include "fuzz_rows.hpp"

namespace fuzzrows {

// Runs f. A tolerated known bug ends the input; so does InvalidParameter when the harness
// expects the code may refuse the input (otherwise it is a bug, like every other exception).
template <typename F>
void run_checked(F&& f, bool refusal_expected) {
  try {
    f();
  } catch (const Tolerated&) {
  } catch (const insight::InvalidParameter&) {
    FUZZ_CHECK(refusal_expected, "InvalidParameter escaped where none is expected");
  } catch (const insight::Error& e) {
    FUZZ_CHECK(false, "unexpected %s (SQLSTATE %s): %s | %s", typeid(e).name(), e.sqlstate(),
               e.what(), e.detail().c_str());
  } catch (const std::exception& e) {
    FUZZ_CHECK(false, "unexpected %s: %s", typeid(e).name(), e.what());
  }
}

}  // namespace fuzzrows
