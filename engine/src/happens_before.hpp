// Happens-before annotations for ThreadSanitizer at the hand-offs the engine relies on.
//
// Debian's oneTBB is not instrumented, so TSan cannot see the synchronisation inside it
// (the pipeline's token hand-offs, its worker wake-ups) and reports every hand-off through
// it as a race. Each annotation states one ordering that TBB documents; with them, any
// report left is a real race in attain. Outside a TSan build they compile to nothing.
#pragma once

#if defined(__SANITIZE_THREAD__)
#define ATTAIN_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ATTAIN_TSAN 1
#endif
#endif

#ifdef ATTAIN_TSAN
#include <sanitizer/tsan_interface.h>
/// Everything this thread did so far happens before whatever follows a matching
/// ATTAIN_HAPPENS_AFTER(sync) on any thread (releases to one `sync` accumulate).
#define ATTAIN_HAPPENS_BEFORE(sync) __tsan_release(static_cast<void*>(sync))
/// What follows happens after every earlier ATTAIN_HAPPENS_BEFORE(sync).
#define ATTAIN_HAPPENS_AFTER(sync) __tsan_acquire(static_cast<void*>(sync))
#else
#define ATTAIN_HAPPENS_BEFORE(sync) static_cast<void>(sync)
#define ATTAIN_HAPPENS_AFTER(sync) static_cast<void>(sync)
#endif

#include <utility>

namespace attain::detail {

/// The sync object of every copy of an annotated filter body (one for the process: its
/// address is a constant, so a call can acquire it before it reads anything of its body).
inline char filter_body_copied;

/// @brief A TBB filter body whose calls are annotated. TBB copies a body into the
/// pipeline's own filter object on the calling thread inside tbb::parallel_pipeline, then
/// hands that object to its workers; so the copy releases everything the copying thread
/// did so far (all the code before the pipeline), and each call acquires it before it
/// reads its copy. A call of a serial filter also happens after the filter's previous call
/// (`serial`; nullptr for a parallel filter), and every call, whether it returns or
/// throws, happens before whatever acquires `done` (the code after the pipeline).
template <class Body>
class AnnotatedFilter {
 public:
  AnnotatedFilter(Body body, void* serial, void* done)
      : body_(std::move(body)), serial_(serial), done_(done) {
    ATTAIN_HAPPENS_BEFORE(&filter_body_copied);
  }
  AnnotatedFilter(const AnnotatedFilter& o) : body_(o.body_), serial_(o.serial_), done_(o.done_) {
    ATTAIN_HAPPENS_BEFORE(&filter_body_copied);
  }
  AnnotatedFilter& operator=(const AnnotatedFilter&) = delete;

  template <class... Args>
  decltype(auto) operator()(Args&&... args) const {
    ATTAIN_HAPPENS_AFTER(&filter_body_copied);
    Call call(serial_, done_);
    return body_(std::forward<Args>(args)...);
  }

 private:
  class Call {
   public:
    Call(void* serial, void* done) : serial_(serial), done_(done) {
      if (serial_) ATTAIN_HAPPENS_AFTER(serial_);
    }
    ~Call() {
      if (serial_) ATTAIN_HAPPENS_BEFORE(serial_);
      ATTAIN_HAPPENS_BEFORE(done_);
    }
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;

   private:
    void* serial_;
    void* done_;
  };

  Body body_;
  void* serial_;
  void* done_;
};

}  // namespace attain::detail
