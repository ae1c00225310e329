// Long-running core work (training, data generation) polls an InterruptCheck between batches.
// The PostgreSQL layer passes one that runs CHECK_FOR_INTERRUPTS and throws when the query is
// cancelled or times out; unit tests pass one that counts calls or throws on demand.
#pragma once

#include <functional>

namespace insight {

using InterruptCheck = std::function<void()>;

inline void poll(const InterruptCheck& check) {
  if (check) check();
}

}  // namespace insight
