// chan_programs_test.cpp: the programs of Go's test/chan, each run as a test:
// FIFO order, non-blocking operations of several element types, select's
// evaluation, memory and blocking rules, bugs once found in select's
// queues, prime sieves, power series, a double-select race, a chain of
// goroutines and zero-size elements.
// Ported from Go's test/chan/*.go (Go 1.19): fifo.go, nonblock.go,
// select.go, select2.go, select3.go, select4.go, select5.go (its basics),
// select6.go, select7.go, select8.go, sendstmt.go, sieve1.go, sieve2.go,
// powser1.go, doubleselect.go, goroutines.go, zerosize.go and perm.go (what
// of it a C++ type can say).
//
// Go lets some of these programs end with goroutines still blocked for
// ever. Here every goroutine ends before main returns: a goroutine left
// parked would keep the channel handles on its stack for ever (run()
// destroys closures, not stack frames), which LeakSanitizer reports. So the
// sieves and power series stop their goroutines once main has its answer
// (see quitter); what they compute is Go's.
// First chapter: 06.
#include <goro/goro.hpp>
#include <gtest/gtest.h>

#include <malloc.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "goro/common/sanitizer.hpp"
#include "support.hpp"

namespace {
using namespace std::chrono_literals;
namespace san = goro::common::san;
using goro::chan;
using goro::default_case;
using goro::make_chan;
using goro::recv_case;
using goro::select;
using goro::send_case;

int sized(int plain, int asan, int tsan) {
  return san::tsan ? tsan : san::asan ? asan : plain;
}

class ChanProgramsTest : public goro::testing::RuntimeTest {};
class ChanProgramsProcs : public goro::testing::RuntimeProcsTest {};

struct Empty {};

// others_gone_at_exit, declared first in a test's main, waits as main ends
// until every other goroutine has ended too (all but `stuck`, those a test
// leaves blocked for ever on purpose). A goroutine left parked with
// channel handles on its stack would keep them for ever, since run()
// destroys closures but not stack frames, and LeakSanitizer would report
// them. One still there after 20 s fails the test.
// wait_for_the_others waits until main and `stuck` others are the only
// goroutines left; after 20 s it gives up and fails the test.
void wait_for_the_others(int stuck = 0) {
  const auto give_up = std::chrono::steady_clock::now() + 20s;
  while (goro::num_goroutine() > 1 + stuck) {
    if (std::chrono::steady_clock::now() > give_up) {
      ADD_FAILURE() << goro::num_goroutine() - 1 - stuck << " goroutines still alive";
      return;
    }
    goro::sleep_for(1ms);
  }
}

class others_gone_at_exit {
 public:
  int stuck = 0;
  others_gone_at_exit() = default;
  others_gone_at_exit(const others_gone_at_exit&) = delete;
  others_gone_at_exit& operator=(const others_gone_at_exit&) = delete;
  ~others_gone_at_exit() { wait_for_the_others(stuck); }
};


// quitter stops the goroutines of a program that Go leaves running: each
// channel operation they make also waits on quit, and once main closes it,
// the operation throws `stopped`, which ends the goroutine (go() catches
// it).
struct stopped {};
struct quitter {
  chan<Empty> quit = make_chan<Empty>();

  template <class T>
  T recv(const chan<T>& c) {
    std::optional<T> v;
    if (select(recv_case(c, [&](std::optional<T> x) { v = std::move(x); }), recv_case(quit, [] {})) ==
        1) {
      throw stopped{};
    }
    if (!v) ADD_FAILURE() << "a channel of the program was closed";
    return std::move(*v);
  }
  template <class T>
  void send(const chan<T>& c, T v) {
    if (select(send_case(c, std::move(v), [] {}), recv_case(quit, [] {})) == 1) throw stopped{};
  }
  template <class F>
  void go(F f) {
    goro::go([f = std::move(f)]() mutable {
      try {
        f();
      } catch (const stopped&) {
      }
    });
  }
  // stop ends every goroutine and waits for them.
  void stop() {
    quit.close();
    wait_for_the_others();
  }
};

// ---- fifo.go ----

// Unbuffered channels act as pure FIFOs: a buffered one gives back what it
// was given in order, and a daisy chain of goroutines, each waiting for the
// one before it, receives 0..N-1 from one unbuffered channel in sequence.
TEST_P(ChanProgramsProcs, Fifo) {
  const int N = 10;
  std::atomic<int> bad{0};
  goro::run(
      [&] {
        const others_gone_at_exit others;
        // AsynchFifo
        auto ch = make_chan<int>(N);
        for (int i = 0; i < N; i++) ch.send(i);
        for (int i = 0; i < N; i++) {
          if (ch.recv() != i) bad++;
        }

        // SynchFifo
        auto sch = make_chan<int>();
        auto in = make_chan<int>();
        auto start = in;
        for (int i = 0; i < N; i++) {
          auto out = make_chan<int>();
          goro::go(
              [&bad](chan<int> ch, int val, chan<int> in, chan<int> out) {
                (void)in.recv();
                if (ch.recv() != val) bad++;
                out.send(1);
              },
              sch, i, in, out);
          in = out;
        }
        start.send(0);
        for (int i = 0; i < N; i++) sch.send(i);
        (void)in.recv();
      },
      goro::Config{.procs = procs()});
  EXPECT_EQ(bad.load(), 0);
}

// ---- nonblock.go ----

// Go's sleep(): two ticks of a 10 us ticker, three yields.
void pause() {
  goro::sleep_for(10us);
  goro::sleep_for(10us);
  for (int i = 0; i < 3; i++) goro::gosched();
}

// One element type of nonblock.go, at one buffer size: a non-blocking
// receive on an empty channel takes the default; a non-blocking send (or
// receive) retried until a receiver (or sender) goroutine is there gets
// through with the right value. Go gives up after 10,000 tries of about
// 10 us; this gives up after 10 s, so that a slow machine never fails it.
template <class T>
void nonblock_type(std::size_t buffer, T to_receiver, T from_sender, std::atomic<int>& bad) {
  auto c = make_chan<T>(buffer);
  auto sync = make_chan<bool>();
  bool taken = false;
  select(recv_case(c, [&] { taken = true; }), default_case([] {}));
  EXPECT_FALSE(taken) << "blocked sender";

  goro::go([c, sync, to_receiver, &bad]() mutable {
    if (c.recv() != to_receiver) bad++;
    sync.send(true);
  });
  auto give_up = std::chrono::steady_clock::now() + 10s;
  while (select(send_case(c, to_receiver, [] {}), default_case([] {})) != 0) {
    ASSERT_LT(std::chrono::steady_clock::now(), give_up) << "receiver buffer=" << buffer;
    pause();
  }
  (void)sync.recv();

  goro::go([c, sync, from_sender]() mutable {
    c.send(from_sender);
    sync.send(true);
  });
  if (buffer > 0) (void)sync.recv();
  std::optional<T> got;
  give_up = std::chrono::steady_clock::now() + 10s;
  while (select(recv_case(c, [&](std::optional<T> v) { got = std::move(v); }),
                default_case([] {})) != 0) {
    ASSERT_LT(std::chrono::steady_clock::now(), give_up) << "sender buffer=" << buffer;
    pause();
  }
  EXPECT_EQ(got, from_sender) << "sender value";
  if (buffer == 0) (void)sync.recv();
}

TEST_P(ChanProgramsProcs, Nonblock) {
  std::atomic<int> bad{0};
  goro::run(
      [&] {
        const others_gone_at_exit others;
        for (std::size_t buffer = 0; buffer < 2; buffer++) {
          nonblock_type<std::int32_t>(buffer, 123, 234, bad);
          nonblock_type<std::int64_t>(buffer, 123456, 234567, bad);
          nonblock_type<bool>(buffer, true, true, bad);
          nonblock_type<std::string>(buffer, "hello", "hello again", bad);
        }
      },
      goro::Config{.procs = procs()});
  EXPECT_EQ(bad.load(), 0) << "a receiver got the wrong value";
}

// ---- select.go ----

// A select evaluates every send's value (GetValue) on each pass, even for
// a nil channel's case, and sends one of them; a nil channel's case is
// never chosen.
TEST_F(ChanProgramsTest, Select) {
  unsigned counter = 0, shift = 0;
  auto get_value = [&] {
    counter++;
    return 1u << shift;
  };
  auto send = [&](chan<unsigned> a, chan<unsigned> b) {
    int i = 0;
    for (;;) {
      bool sent = true;
      select(send_case(a, get_value(), [&] {
               i++;
               a = {};
             }),
             send_case(b, get_value(), [&] {
               i++;
               b = {};
             }),
             default_case([&] { sent = false; }));
      if (!sent) break;
      shift++;
    }
    return i;
  };
  goro::run([&] {
    const others_gone_at_exit others;
    auto a = make_chan<unsigned>(1), b = make_chan<unsigned>(1);
    EXPECT_EQ(send(a, b), 2);
    const unsigned av = *a.recv(), bv = *b.recv();
    EXPECT_EQ(av | bv, 3u) << "bad values " << av << " " << bv;
    EXPECT_EQ(send(a, chan<unsigned>()), 1);
  });
  EXPECT_EQ(counter, 10u);
}

// ---- select2.go ----

// Selects do not consume undue memory: 100,000 more of them, after as many
// to warm up, leave the heap (all of malloc's arenas) within 256 KiB of
// where it was. (Go allows 110 KB. Under the sanitizers, whose allocators
// malloc's statistics do not see, only the selects run.)
TEST_F(ChanProgramsTest, Select2) {
  const int n = sized(100000, 30000, 10000);
  std::size_t growth = 0;
  int dummies = 0;
  goro::run(
      [&] {
        const others_gone_at_exit others;
        auto c = make_chan<int>(), dummy = make_chan<int>();
        auto round = [&] {
          goro::go(
              [](chan<int> c, int n) {
                for (int i = 0; i < n; i++) c.send(1);
              },
              c, n);
          for (int i = 0; i < n; i++) {
            select(recv_case(c, [] {}), recv_case(dummy, [&] { dummies++; }));
          }
        };
        round();  // warm up
        const std::size_t before = mallinfo2().uordblks;
        round();
        const std::size_t after = mallinfo2().uordblks;
        growth = after > before ? after - before : 0;
      },
      goro::Config{.procs = 2});
  EXPECT_EQ(dummies, 0);
  if (!san::asan && !san::tsan) {
    EXPECT_LT(growth, 256u * 1024) << "too much memory for " << n << " selects";
  }
}

// ---- select3.go ----

enum class blocks { always, never };

// test_block runs f in a goroutine and checks, by waiting, that it always
// or never blocks. Go waits 10 ms for one that must block (a correct
// runtime passes whatever the wait), and 10 s for one that must not (only
// a machine stalled for 10 s could fail it). A goroutine blocked on a
// channel it can be released from is released (unblock) and waited for;
// the others (on nil channels, in select {}) are counted in stuck.
struct block_tester {
  int stuck = 0;
  void operator()(blocks signal, std::function<void()> f, std::function<void()> unblock = {});
};

void block_tester::operator()(blocks signal, std::function<void()> f,
                              std::function<void()> unblock) {
  auto returned = make_chan<bool>(1);
  goro::go([f, returned]() mutable {
    f();
    returned.send(true);
  });
  if (signal == blocks::never) {
    auto which = select(recv_case(returned, [] {}), recv_case(goro::after(10s), [] {}));
    EXPECT_EQ(which, 0u) << "function did block";
  } else {
    auto which = select(recv_case(returned, [] {}), recv_case(goro::after(10ms), [] {}));
    EXPECT_EQ(which, 1u) << "function did not block";
    if (unblock) {
      unblock();
      (void)returned.recv();
    } else {
      stuck++;
    }
  }
}

// test_panic calls f and checks that it always or never panics.
void test_panic(bool always, const std::function<void()>& f) {
  bool panicked = false;
  try {
    f();
  } catch (const goro::runtime_error&) {
    panicked = true;
  }
  EXPECT_EQ(panicked, always) << (always ? "function did not panic" : "function did panic");
}

void unreachable() { ADD_FAILURE() << "control flow shouldn't reach here"; }

// The semantics of the select statement for the basic empty and non-empty
// cases, as select3.go lists them, in its order.
TEST_P(ChanProgramsProcs, Select3) {
  goro::run(
      [&] {
        others_gone_at_exit others;
        block_tester test_block;
        const std::size_t async = 1;  // asynchronous channels
        chan<int> nilch;
        auto closedch = make_chan<int>();
        closedch.close();

        // sending/receiving from a nil channel blocks
        test_block(blocks::always, [nilch]() mutable { nilch.send(7); });
        test_block(blocks::always, [nilch]() mutable { (void)nilch.recv(); });

        // sending/receiving from a nil channel inside a select is never selected
        test_panic(false, [&] { select(send_case(nilch, 7, [] { unreachable(); }), default_case([] {})); });
        test_panic(false, [&] { select(recv_case(nilch, [] { unreachable(); }), default_case([] {})); });

        // sending to an async channel with free buffer space never blocks
        test_block(blocks::never, [] {
          auto ch = make_chan<int>(async);
          ch.send(7);
        });

        // receiving from a closed channel never blocks
        test_block(blocks::never, [closedch]() mutable {
          for (int i = 0; i < 10; i++) {
            if (closedch.recv().value_or(0) != 0) ADD_FAILURE() << "expected zero value";
            if (closedch.recv().has_value()) ADD_FAILURE() << "expected 0, false from closed channel";
          }
        });

        // sending to a closed channel panics
        test_panic(true, [&] { closedch.send(7); });

        // receiving from a non-ready channel always blocks
        auto ch = make_chan<int>();
        test_block(blocks::always, [ch]() mutable { (void)ch.recv(); }, [ch]() mutable { ch.send(1); });

        // empty selects always block
        test_block(blocks::always, [] { select(); });

        // selects with only nil channels always block
        test_block(blocks::always, [nilch] { select(recv_case(nilch, [] { unreachable(); })); });
        test_block(blocks::always, [nilch] { select(send_case(nilch, 7, [] { unreachable(); })); });
        test_block(blocks::always, [nilch] {
          select(recv_case(nilch, [] { unreachable(); }), send_case(nilch, 7, [] { unreachable(); }));
        });

        // selects with non-ready non-nil channels always block
        auto ch2 = make_chan<int>();
        test_block(blocks::always, [ch2] { select(recv_case(ch2, [] {})); },
                   [ch2]() mutable { ch2.send(1); });

        // selects with default cases don't block
        test_block(blocks::never, [] { select(default_case([] {})); });
        test_block(blocks::never, [nilch] {
          select(recv_case(nilch, [] { unreachable(); }), default_case([] {}));
        });
        test_block(blocks::never, [nilch] {
          select(send_case(nilch, 7, [] { unreachable(); }), default_case([] {}));
        });

        // selects with ready channels don't block
        test_block(blocks::never, [] {
          auto ch = make_chan<int>(async);
          select(send_case(ch, 7, [] {}), default_case([] { unreachable(); }));
        });
        test_block(blocks::never, [] {
          auto ch = make_chan<int>(async);
          ch.send(7);
          select(recv_case(ch, [] {}), default_case([] { unreachable(); }));
        });

        // selects with closed channels behave like ordinary operations
        test_block(blocks::never, [closedch] { select(recv_case(closedch, [] {})); });
        test_block(blocks::never, [closedch] {
          select(recv_case(closedch, [](std::optional<int> x) { (void)x; }));
        });
        test_block(blocks::never, [closedch] {
          select(recv_case(closedch, [](std::optional<int> x) {
            if (x) ADD_FAILURE() << "received from a closed channel";
          }));
        });
        test_panic(true, [&] { select(send_case(closedch, 7, [] {})); });

        // select should not get confused if it sees itself
        auto self = make_chan<int>();
        test_block(blocks::always,
                   [self] { select(send_case(self, 1, [] {}), recv_case(self, [] {})); },
                   [self]() mutable { (void)self.recv(); });
        EXPECT_EQ(test_block.stuck, 6);
        others.stuck = test_block.stuck;
      },
      goro::Config{.procs = procs()});
}

// ---- select4.go ----

// A select proceeds when a value is ready, and evaluates the left side of
// the case not chosen (Go's *f()) never.
TEST_F(ChanProgramsTest, Select4) {
  int a = 0;
  bool called_f = false;
  goro::run([&] {
    const others_gone_at_exit others;
    auto c = make_chan<int>(1), c1 = make_chan<int>();
    c.send(42);
    select(recv_case(c1, [&] { called_f = true; }),
           recv_case(c, [&](std::optional<int> v) { a = *v; }));
  });
  EXPECT_FALSE(called_f) << "BUG: called f";
  EXPECT_EQ(a, 42);
}

// ---- select5.go ----

// select5.go generates a test of each way of writing one send, one
// receive, or a non-blocking operation, checking that the right one
// happens and that the expressions are evaluated in order. C++ leaves the
// order of a call's arguments unspecified, so only the first part ports:
// on a buffered channel of one, in a single goroutine, each form sends or
// receives exactly once, and the non-blocking forms take the default when
// nothing is ready.
TEST_F(ChanProgramsTest, Select5Basics) {
  goro::run([] {
    const others_gone_at_exit others;
    auto c = make_chan<int>(1);
    chan<int> nilch;
    auto dummy = make_chan<int>();
    int x = 0;
    auto into_x = [&](std::optional<int> v) { x = v.value_or(-1); };

    // Receives: each form takes the value sent.
    const std::vector<std::function<std::size_t()>> recvs{
        [&] { x = c.recv().value_or(-1); return std::size_t{0}; },
        [&] { return select(recv_case(c, into_x)); },
        [&] { return select(recv_case(c, into_x), recv_case(dummy, [] { unreachable(); })); },
        [&] { return select(recv_case(dummy, [] { unreachable(); }), recv_case(c, into_x)) - 1; },
        [&] { return select(recv_case(c, into_x), default_case([] { unreachable(); })); },
        [&] { return select(default_case([] { unreachable(); }), recv_case(c, into_x)) - 1; },
        [&] {
          return select(recv_case(nilch, [] { unreachable(); }), recv_case(c, into_x),
                        send_case(nilch, 1, [] { unreachable(); })) - 1;
        },
        [&] {
          return select(recv_case(dummy, [] { unreachable(); }), recv_case(c, into_x),
                        default_case([] { unreachable(); })) - 1;
        },
    };
    for (std::size_t i = 0; i < recvs.size(); i++) {
      c.send(static_cast<int>(i) + 1);
      x = 0;
      EXPECT_EQ(recvs[i](), 0u) << "recv form " << i;
      EXPECT_EQ(x, static_cast<int>(i) + 1) << "recv form " << i;
      EXPECT_EQ(c.size(), 0u) << "recv form " << i;
    }

    // Sends: each form sends once.
    const std::vector<std::function<std::size_t(int)>> sends{
        [&](int v) { c.send(v); return std::size_t{0}; },
        [&](int v) { return select(send_case(c, v, [] {})); },
        [&](int v) { return select(send_case(c, v, [] {}), recv_case(dummy, [] { unreachable(); })); },
        [&](int v) { return select(recv_case(dummy, [] { unreachable(); }), send_case(c, v, [] {})) - 1; },
        [&](int v) { return select(send_case(c, v, [] {}), default_case([] { unreachable(); })); },
        [&](int v) {
          return select(send_case(nilch, v, [] { unreachable(); }), send_case(c, v, [] {}),
                        default_case([] { unreachable(); })) - 1;
        },
        [&](int v) {
          return select(send_case(dummy, -v, [] { unreachable(); }), send_case(c, v, [] {})) - 1;
        },
    };
    for (std::size_t i = 0; i < sends.size(); i++) {
      EXPECT_EQ(sends[i](static_cast<int>(i) + 1), 0u) << "send form " << i;
      EXPECT_EQ(c.size(), 1u) << "send form " << i;
      EXPECT_EQ(c.recv(), static_cast<int>(i) + 1) << "send form " << i;
    }

    // Non-blocking forms with nothing ready: c empty, then c full.
    auto none = [] {};
    EXPECT_EQ(select(recv_case(c, [] { unreachable(); }), default_case(none)), 1u);
    EXPECT_EQ(select(default_case(none), recv_case(c, [] { unreachable(); })), 0u);
    EXPECT_EQ(select(recv_case(dummy, [] { unreachable(); }), recv_case(c, [] { unreachable(); }),
                     default_case(none)),
              2u);
    EXPECT_EQ(select(recv_case(nilch, [] { unreachable(); }), default_case(none)), 1u);
    c.send(0);
    EXPECT_EQ(select(send_case(c, 1, [] { unreachable(); }), default_case(none)), 1u);
    EXPECT_EQ(select(send_case(c, 1, [] { unreachable(); }), send_case(dummy, 2, [] { unreachable(); }),
                     default_case(none)),
              2u);
    EXPECT_EQ(select(send_case(nilch, 1, [] { unreachable(); }), default_case(none)), 1u);
    EXPECT_EQ(c.recv(), 0);
  });
}

// ---- select6.go ----

// Issue 2075: a select corrupted the queues of the cases it did not take
// when it was the last of several waiters there: later waiters on c1 were
// never woken.
TEST_P(ChanProgramsProcs, Select6) {
  std::atomic<int> dummy{0};
  goro::run(
      [&] {
        const others_gone_at_exit others;
        auto c1 = make_chan<bool>(), c2 = make_chan<bool>(), c3 = make_chan<bool>();
        auto done = make_chan<int>(3);
        goro::go([c1, done]() mutable {
          (void)c1.recv();
          done.send(1);
        });
        goro::go([c1, c2, c3, done, &dummy]() mutable {
          select(recv_case(c1, [&] { dummy++; }), recv_case(c2, [&] { c3.send(true); }));
          (void)c1.recv();
          done.send(1);
        });
        goro::go([c2, done]() mutable {
          c2.send(true);
          done.send(1);
        });
        (void)c3.recv();
        c1.send(true);
        c1.send(true);
        for (int i = 0; i < 3; i++) (void)done.recv();
      },
      goro::Config{.procs = procs()});
  EXPECT_EQ(dummy.load(), 0);
}

// ---- select7.go ----

// A value discarded by a select: each of three ways of receiving (plain,
// one-case select, two-case select) against each of three ways of
// sending.
void recv1(chan<int> c) { (void)c.recv(); }
void recv2(chan<int> c) { select(recv_case(c, [] {})); }
void recv3(chan<int> c) {
  auto c2 = make_chan<int>();
  select(recv_case(c, [] {}), recv_case(c2, [] {}));
}

void send1(void (*recv)(chan<int>)) {
  auto c = make_chan<int>();
  goro::go(recv, c);
  goro::gosched();
  c.send(1);
}
void send2(void (*recv)(chan<int>)) {
  auto c = make_chan<int>();
  goro::go(recv, c);
  goro::gosched();
  select(send_case(c, 1, [] {}));
}
void send3(void (*recv)(chan<int>)) {
  auto c = make_chan<int>();
  goro::go(recv, c);
  goro::gosched();
  auto c2 = make_chan<int>();
  select(send_case(c, 1, [] {}), send_case(c2, 1, [] {}));
}

TEST_P(ChanProgramsProcs, Select7) {
  bool done = false;
  goro::run(
      [&] {
        const others_gone_at_exit others;
        send1(recv1);
        send2(recv1);
        send3(recv1);
        send1(recv2);
        send2(recv2);
        send3(recv2);
        send1(recv3);
        send2(recv3);
        send3(recv3);
        wait_for_the_others();
        done = true;
      },
      goro::Config{.procs = procs()});
  EXPECT_TRUE(done);
}

// ---- select8.go ----

// 1-, 2- and 3-case selects (the general path and the one- and two-case
// shortcuts), with a default, against a goroutine that sends 5 for ever
// (until main is done): the case taken is the one that can go.
TEST_F(ChanProgramsTest, Select8) {
  std::vector<std::size_t> taken;
  goro::run([&] {
    const others_gone_at_exit others;
    auto ch = make_chan<int>();
    auto stop = make_chan<Empty>();
    auto done = make_chan<int>(1);
    goro::go([ch, stop, done]() mutable {
      bool more = true;
      while (more) select(send_case(ch, 5, [] {}), recv_case(stop, [&] { more = false; }));
      done.send(1);
    });
    int v = 0;
    taken.push_back(select(recv_case(ch, [&](std::optional<int> x) { v = *x; })));
    EXPECT_EQ(v, 5);
    taken.push_back(select(default_case([] {})));
    // The sender may not be waiting yet: then the default runs.
    const auto k = select(recv_case(ch, [] {}), default_case([] {}));
    EXPECT_LE(k, 1u);
    // ch <- 10 would need a receiver: only the receive can go, or the default.
    const auto k3 = select(recv_case(ch, [] {}), send_case(ch, 10, [] { unreachable(); }),
                           default_case([] {}));
    EXPECT_NE(k3, 1u);
    stop.close();
    (void)done.recv();
  });
  EXPECT_EQ(taken, (std::vector<std::size_t>{0, 0}));
}

// ---- sendstmt.go ----

// A send to a channel received from a channel of channels, in a select
// (Go's `case <-cc <- 2:`), and a send of an expression.
TEST_F(ChanProgramsTest, SendStmt) {
  goro::run([] {
    const others_gone_at_exit others;
    auto cc = make_chan<chan<int>>(1);
    auto c = make_chan<int>(1);
    cc.send(c);
    EXPECT_EQ(select(send_case(*cc.recv(), 2, [] {}), default_case([] { ADD_FAILURE() << "nonblock"; })),
              0u);
    EXPECT_EQ(c.recv(), 2);

    auto b = make_chan<bool>(1);
    b.send(false || true);
    EXPECT_EQ(b.recv(), true) << "sent false";
  });
}

// ---- sieve1.go ----

// The classical inefficient concurrent prime sieve: a chain of filter
// goroutines, one per prime found. Go's generator runs for ever; here it
// stops when main has its primes, closing its channel, and the close runs
// down the chain while main drains what is left.
TEST_P(ChanProgramsProcs, Sieve1) {
  const std::vector<int> a{2,  3,  5,  7,  11, 13, 17, 19, 23, 29, 31, 37, 41,
                           43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97};
  std::vector<int> got;
  goro::run(
      [&] {
        const others_gone_at_exit others;
        std::atomic<bool> stop{false};
        auto primes = make_chan<int>();
        goro::go([primes, &stop]() mutable {  // Sieve
          auto ch = make_chan<int>();
          goro::go(
              [&stop](chan<int> ch) {  // Generate: 2, 3, 4, ... into ch
                for (int i = 2; !stop.load(); i++) ch.send(i);
                ch.close();
              },
              ch);
          for (;;) {
            auto prime = ch.recv();
            if (!prime) break;
            primes.send(*prime);
            auto ch1 = make_chan<int>();
            goro::go(
                [](chan<int> in, chan<int> out, int prime) {  // Filter
                  for (int i : in) {
                    if (i % prime != 0) out.send(i);
                  }
                  out.close();
                },
                ch, ch1, *prime);
            ch = ch1;
          }
          primes.close();
        });
        for (std::size_t i = 0; i < a.size(); i++) got.push_back(*primes.recv());
        stop = true;
        for (int p : primes) (void)p;
        wait_for_the_others();
      },
      goro::Config{.procs = procs()});
  EXPECT_EQ(got, a);
}

// ---- sieve2.go ----

// The sieve of Eratosthenes over channels: the odd numbers, merged with a
// heap of channels of each prime's odd multiples, a feedback loop of
// primes through a proxy goroutine that buffers without bound. Go's ring
// buffer that doubles is a deque here.
struct Sieve2 : quitter {
  chan<int> odds() {
    auto out = make_chan<int>(50);
    go([this, out] {
      for (int n = 5;; n += 2) send(out, n);
    });
    return out;
  }

  chan<int> multiples(int p) {
    auto out = make_chan<int>(10);
    go([this, out, p] {
      for (int n = p * p;; n += 2 * p) send(out, n);
    });
    return out;
  }

  struct PeekCh {
    int head;
    chan<int> ch;
  };
  // The heap's order: the least head on top.
  static bool later(const PeekCh& a, const PeekCh& b) { return a.head > b.head; }

  // sendproxy returns a channel that forwards to out and never blocks its
  // sender: a goroutine buffers what out does not take yet.
  chan<int> sendproxy(chan<int> out) {
    auto proxy = make_chan<int>(10);
    go([this, out, proxy] {
      std::deque<int> buf;
      for (;;) {
        chan<int> c = out;
        int e = 0;
        if (buf.empty()) {
          c = {};  // buffer empty: disable output
        } else {
          e = buf.front();
        }
        if (select(recv_case(proxy, [&](std::optional<int> v) { buf.push_back(*v); }),
                   send_case(c, e, [&] { buf.pop_front(); }), recv_case(quit, [] {})) == 2) {
          throw stopped{};
        }
      }
    });
    return proxy;
  }

  chan<int> sieve() {
    auto out = make_chan<int>(10);  // the output values
    out.send(2);
    out.send(3);
    auto composites = make_chan<int>(50);  // all composites, in increasing order
    auto primes = make_chan<int>(10);      // the feedback loop
    primes.send(3);

    // Merge channels of multiples of 'primes' into 'composites'.
    go([this, primes, composites] {
      std::vector<PeekCh> h;
      int min = 15;
      auto pop = [&] {
        std::pop_heap(h.begin(), h.end(), later);
        PeekCh p = std::move(h.back());
        h.pop_back();
        return p;
      };
      auto push = [&](PeekCh p) {
        h.push_back(std::move(p));
        std::push_heap(h.begin(), h.end(), later);
      };
      for (;;) {
        auto m = multiples(recv(primes));
        const int head = recv(m);
        while (min < head) {
          send(composites, min);
          PeekCh minchan = pop();
          min = minchan.head;
          minchan.head = recv(minchan.ch);
          push(std::move(minchan));
        }
        while (min == head) {
          PeekCh minchan = pop();
          min = minchan.head;
          minchan.head = recv(minchan.ch);
          push(std::move(minchan));
        }
        send(composites, head);
        push(PeekCh{recv(m), m});
      }
    });

    // Sieve out 'composites' from 'candidates'.
    go([this, primes, composites, out] {
      // Only multiples of primes <= sqrt(nth prime) are needed, so the
      // merger receives from primes much more slowly than this sends: the
      // proxy buffers them, or this would block.
      auto proxy = sendproxy(primes);
      auto candidates = odds();
      int p = recv(candidates);
      for (;;) {
        const int c = recv(composites);
        while (p < c) {
          send(proxy, p);
          send(out, p);
          p = recv(candidates);
        }
        if (p == c) p = recv(candidates);
      }
    });
    return out;
  }
};

TEST_P(ChanProgramsProcs, Sieve2) {
  const std::vector<int> a{2,  3,  5,  7,  11, 13, 17, 19, 23, 29, 31, 37, 41,
                           43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97};
  std::vector<int> got;
  goro::run(
      [&] {
        const others_gone_at_exit others;
        Sieve2 s;
        auto primes = s.sieve();
        for (std::size_t i = 0; i < a.size(); i++) got.push_back(*primes.recv());
        s.stop();
      },
      goro::Config{.procs = procs()});
  EXPECT_EQ(got, a);
}

// ---- powser1.go ----

// Power series as channels of rational coefficients (Doug McIlroy's
// Squinting at Power Series): each series is a demand channel (a request,
// then the datum), made by a goroutine; products split series into copies
// that are read at different rates, by generations of goroutines. Go's
// printing helpers, and the operations its test does not check (Mon,
// Xmul, Monmul, Shift, Recip, Binom, Subst, eval), are left out.
struct rat {
  std::int64_t num, den;  // numerator, denominator
  bool eq(rat c) const { return num == c.num && den == c.den; }
};

std::int64_t gcd(std::int64_t u, std::int64_t v) {
  if (u < 0) return gcd(-u, v);
  if (u == 0) return v;
  return gcd(v % u, u);
}

rat i2tor(std::int64_t u, std::int64_t v) {
  const std::int64_t g = gcd(u, v);
  if (v > 0) return {u / g, v / g};
  return {-u / g, -v / g};
}
rat itor(std::int64_t u) { return i2tor(u, 1); }
const rat zero = itor(0), one = itor(1);
const rat finis = i2tor(1, 0);  // the end mark
std::int64_t end(rat u) { return u.den == 0 ? 1 : 0; }

rat add(rat u, rat v) {
  const std::int64_t g = gcd(u.den, v.den);
  return i2tor(u.num * (v.den / g) + v.num * (u.den / g), u.den * (v.den / g));
}
rat mul(rat u, rat v) {
  const std::int64_t g1 = gcd(u.num, v.den), g2 = gcd(u.den, v.num);
  return {(u.num / g1) * (v.num / g2), (u.den / g2) * (v.den / g1)};
}
rat neg(rat u) { return i2tor(-u.num, u.den); }

std::ostream& operator<<(std::ostream& o, rat u) {
  if (u.den == 1) return o << u.num;
  return o << u.num << "/" << u.den;
}

struct Powser : quitter {
  struct dch {
    chan<int> req = make_chan<int>();
    chan<rat> dat = make_chan<rat>();
  };
  using PS = std::shared_ptr<dch>;
  using PS2 = std::shared_ptr<std::array<PS, 2>>;

  std::atomic<int> seqno{0};

  static PS mkPS() { return std::make_shared<dch>(); }
  static PS2 mkPS2() { return std::make_shared<std::array<PS, 2>>(std::array<PS, 2>{mkPS(), mkPS()}); }

  // split reads a single demand channel and replicates its output onto
  // two, which may be read at different rates. A process is created at
  // first demand for a rat and dies after the rat has been sent to both
  // outputs. When multiple generations of split exist, the newest serves
  // requests on one channel, which is always renamed to be out[0]; the
  // oldest serves requests on the other, out[1]. All generations but the
  // newest hold data already sent to out[0]. When data has finally been
  // sent to out[1], a signal on the release-wait channel tells the next
  // newer generation to begin servicing out[1].
  void dosplit(PS in, PS2 out, chan<int> wait) {
    bool both = false;  // do not serve both channels
    auto& o = *out;
    auto k = select(recv_case(o[0]->req, [] {}), recv_case(wait, [] {}), recv_case(quit, [] {}));
    if (k == 2) throw stopped{};
    if (k == 1) {
      both = true;
      k = select(recv_case(o[0]->req, [] {}), recv_case(o[1]->req, [] {}), recv_case(quit, [] {}));
      if (k == 2) throw stopped{};
      if (k == 1) std::swap(o[0], o[1]);
    }
    send(in->req, ++seqno);
    auto release = make_chan<int>();
    go([this, in, out, release] { dosplit(in, out, release); });
    const rat dat = recv(in->dat);
    send(o[0]->dat, dat);
    if (!both) recv(wait);
    recv(o[1]->req);
    send(o[1]->dat, dat);
    send(release, 0);
  }

  void split(PS in, PS2 out) {
    auto release = make_chan<int>();
    go([this, in, out, release] { dosplit(in, out, release); });
    send(release, 0);
  }

  void put(rat dat, const PS& out) {
    recv(out->req);
    send(out->dat, dat);
  }

  rat get(const PS& in) {
    send(in->req, ++seqno);
    return recv(in->dat);
  }

  // Get one rat from each of 2 demand channels.
  std::array<rat, 2> get2(const PS& in0, const PS& in1) {
    std::array<chan<int>, 2> req{in0->req, in1->req};
    std::array<chan<rat>, 2> dat{};
    std::array<rat, 2> out{};
    const PS in[2] = {in0, in1};
    for (int n = 4; n > 0; n--) {
      const int s = ++seqno;
      auto sent = [&](int i) {
        return [&, i] {
          dat[i] = in[i]->dat;
          req[i] = {};
        };
      };
      auto got = [&](int i) {
        return [&, i](std::optional<rat> it) {
          out[i] = *it;
          dat[i] = {};
        };
      };
      if (select(send_case(req[0], s, sent(0)), send_case(req[1], s, sent(1)),
                 recv_case(dat[0], got(0)), recv_case(dat[1], got(1)), recv_case(quit, [] {})) == 4) {
        throw stopped{};
      }
    }
    return out;
  }

  [[noreturn]] void copy(PS in, PS out) {
    for (;;) {
      recv(out->req);
      send(out->dat, get(in));
    }
  }

  [[noreturn]] void repeat(rat dat, PS out) {
    for (;;) put(dat, out);
  }

  // Make a pair of power series identical to a given power series.
  PS2 Split(PS U) {
    auto UU = mkPS2();
    go([this, U, UU] { split(U, UU); });
    return UU;
  }

  // Add two power series.
  PS Add(PS U, PS V) {
    auto Z = mkPS();
    go([this, U, V, Z] {
      for (;;) {
        recv(Z->req);
        const auto uv = get2(U, V);
        switch (end(uv[0]) + 2 * end(uv[1])) {
          case 0: send(Z->dat, add(uv[0], uv[1])); break;
          case 1:
            send(Z->dat, uv[1]);
            copy(V, Z);
          case 2:
            send(Z->dat, uv[0]);
            copy(U, Z);
          case 3: send(Z->dat, finis);
        }
      }
    });
    return Z;
  }

  // Multiply a power series by a constant.
  PS Cmul(rat c, PS U) {
    auto Z = mkPS();
    go([this, c, U, Z] {
      bool done = false;
      while (!done) {
        recv(Z->req);
        const rat u = get(U);
        if (end(u) != 0) {
          done = true;
        } else {
          send(Z->dat, mul(c, u));
        }
      }
      send(Z->dat, finis);
    });
    return Z;
  }

  PS Sub(PS U, PS V) { return Add(U, Cmul(neg(one), V)); }

  PS Rep(rat c) {
    auto Z = mkPS();
    go([this, c, Z] { repeat(c, Z); });
    return Z;
  }

  // Multiply. The algorithm is
  //   let U = u + x*UU
  //   let V = v + x*VV
  //   then UV = u*v + x*(u*VV+v*UU) + x*x*UU*VV
  PS Mul(PS U, PS V) {
    auto Z = mkPS();
    go([this, U, V, Z] {
      recv(Z->req);
      const auto uv = get2(U, V);
      if (end(uv[0]) != 0 || end(uv[1]) != 0) {
        send(Z->dat, finis);
      } else {
        send(Z->dat, mul(uv[0], uv[1]));
        auto UU = Split(U);
        auto VV = Split(V);
        auto W = Add(Cmul(uv[0], (*VV)[0]), Cmul(uv[1], (*UU)[0]));
        recv(Z->req);
        send(Z->dat, get(W));
        copy(Add(W, Mul((*UU)[1], (*VV)[1])), Z);
      }
    });
    return Z;
  }

  // Differentiate.
  PS Diff(PS U) {
    auto Z = mkPS();
    go([this, U, Z] {
      recv(Z->req);
      rat u = get(U);
      if (end(u) == 0) {
        bool done = false;
        for (std::int64_t i = 1; !done; i++) {
          u = get(U);
          if (end(u) != 0) {
            done = true;
          } else {
            send(Z->dat, mul(itor(i), u));
            recv(Z->req);
          }
        }
      }
      send(Z->dat, finis);
    });
    return Z;
  }

  // Integrate, with const of integration.
  PS Integ(rat c, PS U) {
    auto Z = mkPS();
    go([this, c, U, Z] {
      put(c, Z);
      bool done = false;
      for (std::int64_t i = 1; !done; i++) {
        recv(Z->req);
        const rat u = get(U);
        if (end(u) != 0) done = true;
        send(Z->dat, mul(i2tor(1, i), u));
      }
      send(Z->dat, finis);
    });
    return Z;
  }

  // Exponential of a power series with constant term 0 (the constant term
  // is simply ignored):
  //   Z = exp(U)
  //   DZ = Z*DU
  //   integrate to get Z
  PS Exp(PS U) {
    auto ZZ = mkPS2();
    split(Integ(one, Mul((*ZZ)[0], Diff(U))), ZZ);
    return (*ZZ)[1];
  }

  // Monomial substitution: U(c x^n). Each Ui is multiplied by c^i and
  // followed by n-1 zeros.
  PS MonSubst(PS U, rat c0, int n) {
    auto Z = mkPS();
    go([this, U, c0, n, Z] {
      rat c = one;
      for (;;) {
        recv(Z->req);
        const rat u = get(U);
        send(Z->dat, mul(u, c));
        c = mul(c, c0);
        if (end(u) != 0) {
          send(Z->dat, finis);
          break;
        }
        for (int i = 1; i < n; i++) {
          recv(Z->req);
          send(Z->dat, zero);
        }
      }
    });
    return Z;
  }

  void check(const PS& U, rat c, int count, const char* str) {
    for (int i = 0; i < count; i++) {
      const rat r = get(U);
      EXPECT_TRUE(r.eq(c)) << str << ": got " << r << ", should get " << c;
    }
  }

  static constexpr int N = 10;
  void checka(const PS& U, const std::array<rat, N>& a, const char* str) {
    for (int i = 0; i < N; i++) check(U, a[static_cast<std::size_t>(i)], 1, str);
  }
};

TEST_P(ChanProgramsProcs, Powser1) {
  bool done = false;
  goro::run(
      [&] {
        const others_gone_at_exit others;
        Powser p;
        constexpr int N = Powser::N;
        auto Ones = p.Rep(one), Twos = p.Rep(itor(2));
        p.check(Ones, one, 5, "Ones");
        p.check(p.Add(Ones, Ones), itor(2), 0, "Add Ones Ones");  // 1 1 1 1 1
        p.check(p.Add(Ones, Twos), itor(3), 0, "Add Ones Twos");  // 3 3 3 3 3
        std::array<rat, N> a{};
        auto d = p.Diff(Ones);
        for (int i = 0; i < N; i++) a[static_cast<std::size_t>(i)] = itor(i + 1);
        p.checka(d, a, "Diff");  // 1 2 3 4 5
        auto in = p.Integ(zero, Ones);
        a[0] = zero;  // integration constant
        for (int i = 1; i < N; i++) a[static_cast<std::size_t>(i)] = i2tor(1, i);
        p.checka(in, a, "Integ");                                 // 0 1 1/2 1/3 1/4 1/5
        p.check(p.Cmul(neg(one), Twos), itor(-2), 10, "CMul");    // -1 -1 -1 -1 -1
        p.check(p.Sub(Ones, Twos), itor(-1), 0, "Sub Ones Twos");  // -1 -1 -1 -1 -1
        auto m = p.Mul(Ones, Ones);
        for (int i = 0; i < N; i++) a[static_cast<std::size_t>(i)] = itor(i + 1);
        p.checka(m, a, "Mul");  // 1 2 3 4 5
        auto e = p.Exp(Ones);
        a = {itor(1),         itor(1),          i2tor(3, 2),         i2tor(13, 6),
             i2tor(73, 24),   i2tor(167, 40),   i2tor(4051, 720),    i2tor(37633, 5040),
             i2tor(43817, 4480), i2tor(4596553, 362880)};
        p.checka(e, a, "Exp");  // 1 1 3/2 13/6 73/24
        auto at = p.Integ(zero, p.MonSubst(Ones, neg(one), 2));
        for (int c = 1, i = 0; i < N; i++) {
          if (i % 2 == 0) {
            a[static_cast<std::size_t>(i)] = zero;
          } else {
            a[static_cast<std::size_t>(i)] = i2tor(c, i);
            c *= -1;
          }
        }
        p.checka(at, a, "ATan");  // 0 -1 0 -1/3 0 -1/5
        p.stop();
        done = true;
      },
      goro::Config{.procs = procs()});
  EXPECT_TRUE(done);
}

// ---- doubleselect.go ----

// Two cases of one select must never both run: a sender selects over four
// channels, four muxes forward to one channel, and the receiver checks
// that no value comes twice (it did: "throw: bad g->status in ready").
TEST_P(ChanProgramsProcs, DoubleSelect) {
  const int iterations = sized(100000, 30000, 3000);  // Go: 100000
  int dups = 0, received = 0;
  goro::run(
      [&] {
        const others_gone_at_exit others;
        auto c1 = make_chan<int>(), c2 = make_chan<int>(), c3 = make_chan<int>(),
             c4 = make_chan<int>();
        auto done = make_chan<bool>();
        auto cmux = make_chan<int>();
        goro::go([=]() mutable {  // sender
          for (int i = 0; i < iterations; i++) {
            select(send_case(c1, i, [] {}), send_case(c2, i, [] {}), send_case(c3, i, [] {}),
                   send_case(c4, i, [] {}));
          }
          c4.close();
          c3.close();
          c2.close();
          c1.close();
        });
        for (auto in : {c1, c2, c3, c4}) {
          goro::go([cmux, in, done]() mutable {  // mux
            for (int v : in) cmux.send(v);
            done.send(true);
          });
        }
        goro::go([done, cmux]() mutable {
          for (int i = 0; i < 4; i++) (void)done.recv();
          cmux.close();
        });
        std::vector<bool> seen(static_cast<std::size_t>(iterations));
        for (int v : cmux) {  // recver
          received++;
          if (seen[static_cast<std::size_t>(v)]) dups++;
          seen[static_cast<std::size_t>(v)] = true;
        }
      },
      goro::Config{.procs = procs()});
  EXPECT_EQ(dups, 0) << "got duplicate values";
  EXPECT_EQ(received, iterations);
}

// ---- goroutines.go ----

// A torture test: a chain of n goroutines, each passing on what comes from
// its right to its left, then a 1 sent in at the far right.
TEST_P(ChanProgramsProcs, Goroutines) {
  const int n = sized(10000, 10000, 500);
  std::optional<int> got;
  int peak = 0;
  goro::run(
      [&] {
        const others_gone_at_exit others;
        auto leftmost = make_chan<int>();
        auto right = leftmost, left = leftmost;
        for (int i = 0; i < n; i++) {
          right = make_chan<int>();
          goro::go([](chan<int> left, chan<int> right) { left.send(*right.recv()); }, left, right);
          left = right;
        }
        peak = goro::num_goroutine();
        goro::go([](chan<int> c) { c.send(1); }, right);
        got = leftmost.recv();
        wait_for_the_others();
      },
      goro::Config{.procs = procs()});
  EXPECT_EQ(got, 1);
  EXPECT_EQ(peak, n + 1);
}

// ---- zerosize.go ----

// Channels of zero-size types (Go's [0]byte and struct{}; in C++ both take
// a byte), unbuffered and buffered.
TEST_F(ChanProgramsTest, ZeroSize) {
  goro::run([] {
    const others_gone_at_exit others;
    (void)make_chan<std::array<std::byte, 0>>();
    (void)make_chan<std::array<std::byte, 0>>(1);
    (void)make_chan<Empty>();
    (void)make_chan<Empty>(1);
    auto c = make_chan<Empty>(1);
    c.send(Empty{});
    EXPECT_EQ(c.size(), 1u);
    EXPECT_TRUE(c.recv().has_value());
  });
}

// ---- perm.go ----

// perm.go checks that the compiler refuses sends on receive-only channels
// and the like. goro has no directional channels; what the types do say:
// a chan is a cheap, copyable, comparable handle, default-constructible
// (nil), of one element type, not convertible to a chan of another.
static_assert(std::is_nothrow_copy_constructible_v<chan<int>>);
static_assert(std::is_nothrow_move_constructible_v<chan<int>>);
static_assert(std::is_nothrow_default_constructible_v<chan<int>>);
static_assert(std::is_same_v<chan<int>::value_type, int>);
static_assert(!std::is_convertible_v<chan<int>, chan<long>>);
static_assert(!std::is_assignable_v<chan<int>&, chan<long>>);
static_assert(!std::is_convertible_v<int, chan<int>>);
static_assert(std::is_same_v<decltype(std::declval<chan<int>&>().recv()), std::optional<int>>);
static_assert(std::is_same_v<decltype(make_chan<std::unique_ptr<int>>(1)), chan<std::unique_ptr<int>>>);
static_assert(std::is_same_v<decltype(goro::after(1ms)), chan<std::chrono::steady_clock::time_point>>);

INSTANTIATE_TEST_SUITE_P(Procs, ChanProgramsProcs, ::testing::Values(1, 2, 4));

}  // namespace
