// Long-running core work (training, data generation) polls an InterruptCheck between batches.
// The PostgreSQL layer passes one that runs CHECK_FOR_INTERRUPTS and throws when the query is
// cancelled or times out; unit tests pass one that counts calls or throws on demand.
#pragma once

#include <cstdint>
#include <functional>

namespace insight {

using InterruptCheck = std::function<void()>;

inline void poll(const InterruptCheck& check) {
  if (check) check();
}

// The one polling interval of loops over rows: a loop polls once every kPollEvery rows (a
// row's work being a handful of values or tree walks; cancels land within milliseconds).
// Blocks of heavier work poll once per block of about kPollEvery * 16 elementary steps.
constexpr uint64_t kPollEvery = 4096;

// Counts rows and polls every kPollEvery of them.
class RowPoller {
 public:
  explicit RowPoller(const InterruptCheck& check) : check_(check) {}
  void row() {
    if ((rows_++ & (kPollEvery - 1)) == 0) poll(check_);
  }

 private:
  const InterruptCheck& check_;
  uint64_t rows_ = 0;
};

}  // namespace insight
