#include "core/common/parallel.hpp"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace insight {

unsigned available_cores() noexcept {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

void parallel_for(size_t n, unsigned threads,
                  const std::function<void(size_t, const InterruptCheck&)>& work,
                  const InterruptCheck& check) {
  if (n == 0) return;
  if (threads == 0) threads = available_cores();
  if (threads > n) threads = static_cast<unsigned>(n);

  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex m;
  std::condition_variable done_cv;
  unsigned running = 0;
  std::exception_ptr error;  // the first failure, under m

  const InterruptCheck worker_poll = [&stop] {
    if (stop.load(std::memory_order_relaxed)) throw WorkStopped{};
  };
  auto worker = [&] {
    try {
      for (;;) {
        if (stop.load(std::memory_order_relaxed)) break;
        const size_t i = next.fetch_add(1);
        if (i >= n) break;
        work(i, worker_poll);
      }
    } catch (const WorkStopped&) {
      // stopped on purpose: the reason is already recorded
    } catch (...) {
      std::lock_guard<std::mutex> lock(m);
      if (!error) error = std::current_exception();
      stop = true;
    }
    std::lock_guard<std::mutex> lock(m);
    --running;
    done_cv.notify_all();
  };

  std::vector<std::thread> pool;
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);  // inherited by every thread started below
  try {
    for (unsigned t = 0; t < threads; ++t) {
      {
        std::lock_guard<std::mutex> lock(m);
        ++running;
      }
      try {
        pool.emplace_back(worker);
      } catch (...) {
        std::lock_guard<std::mutex> lock(m);
        --running;
        throw;
      }
    }
  } catch (...) {
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    stop = true;
    for (auto& th : pool) th.join();
    throw;
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);

  std::exception_ptr caller_error;
  {
    std::unique_lock<std::mutex> lock(m);
    while (running > 0) {
      done_cv.wait_for(lock, std::chrono::milliseconds(20));
      if (running == 0 || caller_error) continue;
      lock.unlock();
      try {
        poll(check);
      } catch (...) {
        caller_error = std::current_exception();
        stop = true;
      }
      lock.lock();
    }
  }
  for (auto& th : pool) th.join();
  if (caller_error) std::rethrow_exception(caller_error);
  if (error) std::rethrow_exception(error);
}

}  // namespace insight
