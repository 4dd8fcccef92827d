// runtime.hpp: chapter 08's internal structures (Go's runtime2.go) and its
// internal functions, grouped by the file that defines them (as xv6's
// defs.h does).
#pragma once

#include <atomic>
#include <array>
#include <cstdint>
#include <exception>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "goro/common/closure.hpp"
#include "goro/common/context.hpp"
#include "goro/common/counter.hpp"
#include "goro/common/gqueue.hpp"
#include "goro/common/lock.hpp"
#include "goro/common/note.hpp"
#include "goro/common/sanitizer.hpp"
#include "goro/common/stack.hpp"
#include "goro/common/timer_heap.hpp"
#include "goro/goro.hpp"
#include "hchan.hpp"

namespace goro::runtime {

using common::add_counter;

struct g;
struct m;
struct p;
using detail::hchan;

/// A goroutine's state (Go's _G* constants, same values). A G changes state
/// only through casgstatus; each state says where the G is.
enum class gstatus : std::uint32_t {
  _Gidle = 0,      ///< just allocated, not yet initialised
  _Grunnable = 1,  ///< in a P's runnext or runq, or on sched.runq; not running
  _Grunning = 2,   ///< running on an M, which holds a P; owns its stack
  _Gsyscall = 3,   ///< in a blocking call (goro::syscall); has an M, maybe no P
  _Gwaiting = 4,   ///< parked (gopark); something will goready it
  _Gdead = 6,      ///< exited, or on a free list waiting for reuse
};

/// Why a goroutine is parked; printed with Go's words (waitReason).
enum class wait_reason : std::uint8_t {
  none,
  sleep,                ///< "sleep": in sleep_for
  chan_receive,         ///< "chan receive"
  chan_send,            ///< "chan send"
  chan_receive_nil,     ///< "chan receive (nil chan)"
  chan_send_nil,        ///< "chan send (nil chan)"
  select,               ///< "select"
  select_no_cases,      ///< "select (no cases)"
  /// "semacquire": in WaitGroup::wait or Mutex::lock (chapter 07). Go 1.19's
  /// text for both; Go 1.20 and later say "sync.WaitGroup.Wait" and
  /// "sync.Mutex.Lock". goro follows 1.19, as everywhere else.
  semacquire,
};
/// The text Go prints for a wait reason.
const char* to_string(wait_reason r);

/// timer is one entry of a P's timer heap (Go's timer, time.go): at `when`
/// the M that runs the P's timers calls f(arg, seq), without the timers
/// lock, on g0. A sleeping G's timer readies it (goroutineReady); after()'s
/// timer sends the time on its channel (sendTime).
struct timer {
  std::int64_t when = 0;                       ///< deadline, in nanotime()
  void (*f)(void* arg, std::uintptr_t seq) = nullptr;  ///< what to do then
  void* arg = nullptr;                         ///< f's argument
  std::uintptr_t seq = 0;                      ///< f's second argument
  /// Frees a timer that owns itself if run() ends before it fires
  /// (after()'s); nullptr for a G's own timer. goro has no GC to do it.
  void (*release)(timer* t) = nullptr;
};

/// eh_globals is the C++ runtime's per-thread exception state (the Itanium
/// ABI's __cxa_eh_globals): the exceptions being handled in catch blocks,
/// and how many are in flight (what std::uncaught_exceptions() reads). A
/// goroutine keeps its own, and takes it along to whichever thread runs it
/// (see execute), so that a deferred call may park in the middle of
/// unwinding and resume on another thread.
struct eh_globals {
  void* caughtExceptions = nullptr;  ///< innermost exception in a catch block
  unsigned int uncaughtExceptions = 0;  ///< exceptions thrown, not yet caught
};

/// _panic is one panic of a goroutine (Go's _panic), on its list g._panic,
/// newest first. A goro panic is a C++ exception unwinding the stack; the
/// record says which exception is the panic's value (arg) and which is
/// carrying the unwinding for it: they differ once a deferred call's panic
/// has replaced the one being unwound, since C++ cannot start a second
/// unwinding from a destructor.
struct _panic {
  std::exception_ptr arg;      ///< the panic's value (Go's _panic.arg)
  std::exception_ptr carrier;  ///< the exception whose unwinding carries it
  /// std::uncaught_exceptions() while its unwinding runs: the record is
  /// stale once fewer exceptions are in flight (user code caught it).
  int depth = 0;
  _panic* link = nullptr;      ///< the older panic it came during
  bool recovered = false;      ///< recover() stopped it (Go's recovered)
  bool aborted = false;        ///< a newer panic replaced it (Go's aborted)
  bool goexit = false;         ///< it is goexit(), not a panic (Go's goexit)
  /// The deferred call that recovered it has returned: from here on its
  /// unwinding only leaves the stack (Go would have resumed already).
  bool done = false;
};

struct g;
/// clear_panics drops every panic record of gp and forgets its defers: at
/// the end of its function, no exception is in flight any more (panic.cpp).
void clear_panics(g* gp) noexcept;

/// g is a goroutine (Go's g, runtime2.go). Fields are grouped by who may
/// touch them.
struct g {
  // Owned by the goroutine itself while it runs, by the scheduler otherwise.
  common::context sched;          ///< saved registers (Go's g.sched gobuf)
  common::stack stack;            ///< the stack it runs on (kept when dead)
  struct m* m = nullptr;          ///< the M running it, if _Grunning
  long goid = 0;                  ///< goroutine id; main is 1
  void* closure = nullptr;        ///< its function and arguments (on stack)
  const common::closure_ops* ops = nullptr;

  /// Its state; changed with casgstatus only.
  std::atomic<gstatus> atomicstatus{gstatus::_Gidle};
  /// Why it is _Gwaiting. Written by its M at gopark and goready, read by
  /// anyone (tests, and from chapter 06 the deadlock report).
  std::atomic<wait_reason> waitreason{wait_reason::none};
  timer sleeptimer;               ///< its sleep_for timer (Go's g.timer)

  // Channels (chapter 06). Guarded by the locks of the channels the G
  // waits on.
  /// The sudogs of the channel operations the G is parked in (one, or one
  /// per case of a select), linked through sudog::waitlink, in lock order.
  sudog* waiting = nullptr;
  /// Set by whoever wakes the G from a channel: the sudog that completed
  /// (Go's g.param), nullptr before.
  void* param = nullptr;
  /// A select's cases race to wake the G: the first to CAS this from 0 to
  /// 1 completes its case; the others skip its sudog (Go's g.selectDone).
  std::atomic<std::uint32_t> selectDone{0};

  // Panics (chapter 08). Owned by the goroutine itself.
  /// Its pending deferred calls, newest first (Go's g._defer).
  goro::detail::defer_record* _defer = nullptr;
  /// Its panics, newest first (Go's g._panic).
  struct _panic* _panic = nullptr;
  /// The deferred call running now, innermost: the one recover() asks.
  goro::detail::defer_record* running_defer = nullptr;
  /// Its C++ exception state while it is off its thread (see execute).
  eh_globals eh;
  /// Its function ended by goexit(), not by returning (main then waits).
  bool goexiting = false;

  // Guarded by whoever owns the list the G is on.
  g* schedlink = nullptr;         ///< link in a run queue or free list

  /// A G abandoned in the middle of a panic still holds its records.
  ~g() { clear_panics(this); }
};

/// A FIFO of Gs linked through g::schedlink (Go's gQueue).
using gQueue = common::gqueue<g, &g::schedlink>;
/// A LIFO of Gs linked through g::schedlink (Go's gList).
using gList = common::glist<g, &g::schedlink>;

/// A function run on g0 after a goroutine switched away (Go's mcall
/// argument). It returns a G to run at once and whether that G inherits
/// the time slice (Go's execute(gp, inheritTime)), or {nullptr, false} to
/// schedule.
using mcall_fn = std::pair<g*, bool> (*)(g* gp);

/// m is an OS thread that runs goroutines (Go's m). It must hold a P to
/// run one. m0 is run()'s caller; the others are made by startm as needed
/// and, once made, park on the idle list rather than exit.
struct m {
  long id = 0;
  common::context g0;             ///< its scheduler context (Go's m.g0)
  g* curg = nullptr;              ///< the G running on it
  struct p* p = nullptr;          ///< the P it holds
  struct p* nextp = nullptr;      ///< the P to take when woken (startm)
  struct p* oldp = nullptr;       ///< the P it had before entering a syscall
  std::uint32_t syscalltick = 0;  ///< oldp's syscalltick at entersyscall
  bool spinning = false;          ///< looking for work, counted in nmspinning
  std::uint32_t fastrand = 0;     ///< its random state (steal order)
  common::note park;              ///< where it sleeps when idle
  m* schedlink = nullptr;         ///< link on sched.midle
  std::thread thread;             ///< its thread (empty for m0)

  // gopark's arguments, kept here "because there's no stack to put them
  // on" once the G has switched to g0 (Go's m.waitunlockf, m.waitlock).
  bool (*waitunlockf)(g*, void*) = nullptr;
  void* waitlock = nullptr;
};

/// A P's state (Go's _P* constants).
enum class pstatus : std::uint32_t {
  _Pidle = 0,     ///< not used to run user code
  _Prunning = 1,  ///< owned by an M, running goroutines
  _Psyscall = 2,  ///< its M is in a syscall: sysmon may take it (retake)
};

/// The most Gs a P's local run queue holds (Go's len(p.runq)).
inline constexpr std::size_t runq_capacity = 256;
/// A P's local run queue: a ring of slots (see runq.cpp).
using runq_ring = std::array<std::atomic<g*>, runq_capacity>;

/// What sysmon last saw of a P (Go's sysmontick). Only sysmon touches it.
struct sysmontick {
  std::uint32_t schedtick = 0;
  std::int64_t schedwhen = 0;
  std::uint32_t syscalltick = 0;
  std::int64_t syscallwhen = 0;
};

/// p is a processor: the right and the means to run goroutines (Go's p).
/// Its run queue and free list are its own: only the M holding it touches
/// them alone; other Ps may only steal from its run queue, lock-free.
/// Its timers have a lock: an M without work runs any P's due timers.
struct p {
  int id = 0;
  /// Its state. Atomic from this chapter on: sysmon takes a P from an M in
  /// a syscall with a compare-and-swap, racing the M's return.
  std::atomic<pstatus> status{pstatus::_Pidle};
  struct m* m = nullptr;          ///< the M holding it
  p* link = nullptr;              ///< link on sched.pidle
  /// Incremented on every new time slice (read by sysmon).
  std::atomic<std::uint32_t> schedtick{0};
  /// Incremented on every syscall return and every retake (read by sysmon).
  std::atomic<std::uint32_t> syscalltick{0};
  sysmontick sysmon;              ///< sysmon's own notes
  /// The time slice is over: sysmon saw the same schedtick for 10 ms
  /// (retake) and asks the G running here to yield. goro cannot interrupt a
  /// goroutine: the request is honoured where the runtime gets control
  /// (see gopreempt). Cleared when a new time slice starts (execute).
  std::atomic<bool> preempt{false};
  long goidcache = 0;             ///< next goroutine id to hand out
  long goidcacheend = 0;          ///< end of the batch taken from goidgen

  // The local run queue, lock-free (runq.cpp): only pp adds, at the tail;
  // pp and thieves take from the head with a CAS.
  std::atomic<std::uint32_t> runqhead{0};
  std::atomic<std::uint32_t> runqtail{0};
  runq_ring runq{};
  /// A G to run before the ring, inheriting the time slice: the last one
  /// made runnable here. Only pp sets it; anyone may take it.
  std::atomic<g*> runnext{nullptr};
  gList gFree;                    ///< dead Gs, with stacks, for reuse
  std::atomic<std::int32_t> gFreeCount{0};  ///< gFree.size(), for gcount

  /// Free sudogs, taken without a lock (Go's p.sudogcache and sudogbuf).
  std::array<sudog*, 128> sudogcache{};
  std::size_t nsudogcache = 0;    ///< how many of sudogcache are used

  common::mutex timersLock;       ///< guards timers
  /// Sleeping Gs and after() timers, by deadline.
  common::timer_heap<timer> timers GORO_GUARDED_BY(timersLock);
  /// The earliest deadline in timers, 0 if none; read without the lock
  /// (Go's p.timer0When).
  std::atomic<std::int64_t> timer0When{0};
};

/// randomEnum walks the Ps once each in a random order (Go's randomEnum):
/// start anywhere, and step by a number coprime with the count.
struct randomEnum {
  std::uint32_t i = 0;      ///< how many Ps visited so far
  std::uint32_t count = 0;  ///< how many Ps there are
  std::uint32_t pos = 0;    ///< the P to visit now
  std::uint32_t inc = 0;    ///< the step, coprime with count
  /// done: every P has come up once.
  bool done() const { return i == count; }
  /// next moves to the next P.
  void next() {
    i++;
    pos = (pos + inc) % count;
  }
  /// position is the index in allp of the P to visit now.
  std::uint32_t position() const { return pos; }
};

/// randomOrder makes the walks of the Ps that stealing uses (Go's
/// randomOrder, sched's stealOrder); steal.cpp.
struct randomOrder {
  std::uint32_t count = 0;               ///< how many Ps
  std::vector<std::uint32_t> coprimes;   ///< 1..count, coprime with count
  /// reset prepares walks over `count` Ps (procresize calls it).
  void reset(std::uint32_t count);
  /// start begins a walk chosen by the random number i.
  randomEnum start(std::uint32_t i) const;
};

/// schedt holds the scheduler's global state (Go's schedt). There is one,
/// for one call of run().
struct schedt {
  std::atomic<long> goidgen{0};   ///< last goroutine id handed out
  std::int64_t start = 0;         ///< nanotime() at run(), for schedtrace

  // sched.lock guards the lists below, and the writes to the counters
  // beside them (atomics, so that anyone may read them without the lock).
  common::mutex lock;
  m* midle GORO_GUARDED_BY(lock) = nullptr;  ///< idle Ms, parked on their notes
  std::atomic<std::int32_t> nmidle{0};   ///< how many
  p* pidle GORO_GUARDED_BY(lock) = nullptr;  ///< idle Ps
  std::atomic<std::int32_t> npidle{0};   ///< how many
  std::atomic<std::int32_t> nmspinning{0};  ///< Ms looking for work (no lock)
  /// The M that sleeps until the earliest timer of all Ps (the role Go
  /// gives the M blocked in netpoll), and that deadline; 0: none.
  m* timerm GORO_GUARDED_BY(lock) = nullptr;
  std::atomic<std::int64_t> timerwhen{0};
  std::atomic<bool> sysmonwait{false};  ///< sysmon is in deep sleep on sysmonnote
  common::note sysmonnote;        ///< wakes sysmon (and stops it at exit)
  std::thread sysmon;             ///< sysmon's thread (no P, no M struct)
  /// What happened at syscall returns and to Ps in syscalls, for demos and
  /// tests: exitsyscall's fast and slow paths, and Ps retaken by sysmon.
  std::atomic<long> nexitsyscallfast{0}, nexitsyscallslow{0}, nretake{0};
  /// The global run queue (Go's sched.runq).
  gQueue runq GORO_GUARDED_BY(lock);
  std::atomic<std::int32_t> runqsize{0};  ///< its length
  /// The global free list of dead Gs, under its own lock as in Go.
  struct {
    common::mutex lock;           ///< guards list (and writes to n)
    gList list GORO_GUARDED_BY(lock);  ///< dead Gs with stacks
    std::atomic<std::int32_t> n{0};    ///< its length, read without lock
  } gFree;

  std::atomic<bool> main_done{false};  ///< main returned: the program ends
  /// A Mutex waiter that has waited over 1 ms may switch the mutex to
  /// starvation mode. GORO_MUTEXSTARVATION=0 turns that off, for chapter
  /// 07's experiment (Go has no such switch).
  bool mutexstarvation = true;
  /// The CPUs this process may run on, read once at run() (Go's ncpu):
  /// Mutex spinning asks for it on every round.
  int ncpu = 1;

  /// The central cache of free sudogs, behind the Ps' caches (Go's
  /// sched.sudoglock and sched.sudogcache); and every sudog made, so that
  /// run() can free them (Go's GC does that).
  struct {
    common::mutex lock;
    sudog* cache GORO_GUARDED_BY(lock) = nullptr;  ///< linked through next
    std::vector<std::unique_ptr<sudog>> all GORO_GUARDED_BY(lock);
  } sudogs;

  // Owners of everything run() made, freed when it returns. allp is fixed
  // at boot; allm grows under sched.lock.
  std::vector<std::unique_ptr<p>> allp;
  randomOrder stealOrder;         ///< the order in which to visit allp
  std::vector<std::unique_ptr<m>> allm GORO_GUARDED_BY(lock);
  std::atomic<std::int32_t> mcount{0};  ///< allm.size(), read without lock
  common::mutex allglock;               ///< guards allgs
  std::vector<std::unique_ptr<g>> allgs GORO_GUARDED_BY(allglock);  ///< every G made
  std::unique_ptr<common::stack_pool> stacks;
};

/// The running scheduler; nullptr outside run() (defined in proc.cpp).
extern schedt* sched;

/// A new goroutine's closure sits at the top of its stack, this header just
/// below it, so that the closure's address leads back to its G.
struct alignas(16) closure_header {
  g* gp;  ///< the G whose closure it is
};
/// The G whose closure is at mem (see newproc1).
inline g* g_of_closure(void* mem) { return (static_cast<closure_header*>(mem) - 1)->gp; }

// proc.cpp
m* getm();                ///< the calling thread's M, or nullptr
void setm(m* mp);         ///< records the calling thread's M
g* getg();                ///< the running G, or nullptr on g0 / elsewhere
void dropg(m* mp);
void casgstatus(g* gp, gstatus oldval, gstatus newval);
bool exiting();
void abandon();
void schedule();
std::pair<g*, bool> execute(g* gp, bool inheritTime);
void mcall(mcall_fn fn);
std::pair<g*, bool> gosched_m(g* gp);
void gopark(bool (*unlockf)(g*, void*), void* lock, wait_reason reason);
void gopreempt();
void goyield();
void goready(g* gp);

// newproc.cpp
g* newproc1(p* pp, std::size_t size, std::size_t align, const common::closure_ops* ops);
void newproc_start(g* gp);
void gfput(p* pp, g* gp);
std::pair<g*, bool> goexit0(g* gp);
int gcount();

// runq.cpp
void runqput(p* pp, g* gp, bool next);
bool runqputslow(p* pp, g* gp, std::uint32_t h, std::uint32_t t);
std::pair<g*, bool> runqget(p* pp);
std::uint32_t runqgrab(p* pp, runq_ring& batch, std::uint32_t batchHead, bool stealRunNextG);
g* runqsteal(p* pp, p* p2, bool stealRunNextG);
bool runqempty(p* pp);
std::uint32_t runqlen(p* pp);
void globrunqput(g* gp) GORO_REQUIRES(sched->lock);
g* globrunqget(p* pp, int max) GORO_REQUIRES(sched->lock);

// steal.cpp
std::uint32_t fastrand(m* mp);
g* stealWork(m* mp, std::int64_t now);
p* checkRunqsNoP();

// mp.cpp: Ms and Ps
void handoffp(p* pp);
void newm(p* pp, bool spinning) GORO_REQUIRES(sched->lock);
void mstart(m* mp);
void stopm(m* mp);
void startm(p* pp, bool spinning);
void wakep();
void resetspinning(m* mp);
bool stop_spinning(m* mp);
void acquirep(m* mp, p* pp);
p* releasep(m* mp);
void pidleput(p* pp) GORO_REQUIRES(sched->lock);
p* pidleget() GORO_REQUIRES(sched->lock);
void mput(m* mp) GORO_REQUIRES(sched->lock);
m* mget() GORO_REQUIRES(sched->lock);
void wake_all_for_exit();

// syscall.cpp
void entersyscall();
void exitsyscall();

// sysmon.cpp
/// A time slice: sysmon asks a G that has run this long without a new slice
/// to yield (Go's forcePreemptNS, 10 ms). Sanitizer builds run everything
/// 5 to 20 times slower, so their slice is as many times longer: the same
/// program then makes the same scheduling decisions.
inline constexpr std::int64_t forcePreemptNS =
    10 * 1000 * 1000 * (common::san::tsan ? 20 : common::san::asan ? 5 : 1);
void sysmon_start();
void sysmon_stop();
void sysmon_wake();
void preemptone(p* pp);

// chan.cpp
bool chansend(hchan* c, void* ep, bool block);
std::pair<bool, bool> chanrecv(hchan* c, void* ep, bool block);
void send(hchan* c, sudog* sg, void* ep, void (*unlockf)(void*), void* arg);
void recv(hchan* c, sudog* sg, void* ep, void (*unlockf)(void*), void* arg);
void closechan(hchan* c);
void chan_drop_waiters(g* gp);
void check_preempt();
[[noreturn]] void panic_runtime(const char* what);

// sudog.cpp
sudog* acquireSudog();
void releaseSudog(sudog* s);
void free_sudogs();

// panic.cpp: panic, defer and recover (chapter 08)
void record_throw(std::exception_ptr e, bool goexit);
void record_rethrow(const std::exception_ptr& e);
void gopanic_exit(g* gp, std::exception_ptr e);
bool goexit_started(g* gp);

// checkdead.cpp
void checkdead() GORO_REQUIRES(sched->lock);

// sema.cpp: the semaphore under WaitGroup and Mutex (chapter 07)
/// The number of roots in the semaphore table (Go's semTabSize): a prime,
/// so that addresses do not pile up in a few of them.
inline constexpr std::size_t semTabSize = 251;
/// semaRoot holds the goroutines waiting on every semaphore whose address
/// hashes to it (Go's semaRoot). Go keeps the addresses in a treap; goro in
/// a list (see sema.cpp).
struct semaRoot {
  common::mutex lock;  ///< guards head and the sudogs in it
  /// The first waiter of each address that has waiters, linked through
  /// sudog::next and prev; the others wait behind it, through waitlink.
  sudog* head GORO_GUARDED_BY(lock) = nullptr;
  /// How many goroutines wait here, or are about to. Read without the lock:
  /// 0 lets semrelease skip the lock.
  std::atomic<std::uint32_t> nwait{0};
  /// queue adds s, for the running G, to addr's waiters: at the back, or at
  /// the front if lifo.
  void queue(std::atomic<std::uint32_t>* addr, sudog* s, bool lifo) GORO_REQUIRES(lock);
  /// dequeue takes addr's first waiter off, or returns nullptr.
  sudog* dequeue(const std::atomic<std::uint32_t>* addr) GORO_REQUIRES(lock);
};
semaRoot* rootFor(const void* addr);
bool cansemacquire(std::atomic<std::uint32_t>* addr);
void semacquire1(std::atomic<std::uint32_t>* addr, bool lifo);
void semrelease1(std::atomic<std::uint32_t>* addr, bool handoff);
void sema_drop_waiters();
/// canSpin says whether a Mutex locker may busy-wait a little, for the
/// i-th time, before it parks (Go's sync_runtime_canSpin); sync.cpp.
bool canSpin(int i);

// time.cpp
void addtimer(timer* t);
void free_timers();
std::int64_t checkTimers(p* pp, std::int64_t now);
std::int64_t check_other_timers(p* mine, std::int64_t now);
std::int64_t timeSleepUntil();
bool sleep_until_timer(m* mp);
void wake_timer_sleeper(std::int64_t when);
void timeSleep(std::int64_t ns);

}  // namespace goro::runtime
