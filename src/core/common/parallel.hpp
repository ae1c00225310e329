// Running independent work items on a few threads inside a PostgreSQL backend.
// The rules: worker threads never call PostgreSQL, and PostgreSQL's signal handlers must run on
// the backend's own thread only, so every worker starts with all signals blocked (threads that
// libraries such as XGBoost start from a worker inherit that mask). The calling thread
// does none of the work: it waits, running `check` (CHECK_FOR_INTERRUPTS in the backend) every
// few milliseconds; when `check` throws, the workers stop at their next poll and the exception
// propagates once all of them have been joined.
#pragma once

#include <cstddef>
#include <functional>

#include "core/common/interrupt.hpp"

namespace insight {

// Thrown inside a worker whose run was stopped; never escapes parallel_for.
struct WorkStopped {};

// Runs work(i, poll) for every i in [0, n). `poll` is the worker's own InterruptCheck: it
// throws WorkStopped once the run is being stopped (a cancel, or another item's exception).
// The first exception of an item (or of `check`) is rethrown after every thread has ended.
// threads = 0 means one per available core.
void parallel_for(size_t n, unsigned threads,
                  const std::function<void(size_t, const InterruptCheck&)>& work,
                  const InterruptCheck& check);

unsigned available_cores() noexcept;

}  // namespace insight
