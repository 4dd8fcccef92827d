// chan.hpp: channels, select and after, chapter 06. Included by goro.hpp.
//
// The templates here only give types to the runtime's type-erased channel
// (src/chan.cpp, src/select.cpp, after Go's chan.go and select.go): Go's
// compiler turns `ch <- v` into chansend1(c, &v), `<-ch` into chanrecv1 and
// a select statement into an array of scases for selectgo, and so do these.
// The runtime moves elements with the few operations of elem_ops, the part
// of Go's *_type that a channel needs.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>

namespace goro {

/// runtime_error is what goro panics with when a program misuses a channel
/// (Go's runtime.Error, as plainError): "send on closed channel", "close of
/// closed channel", "close of nil channel", "makechan: size out of range".
/// Uncaught, it ends the program as Go's panic does: `panic: <what>`, a
/// blank line, `goroutine N [running]:`, exit status 2.
class runtime_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Internals the templates below need; not part of the API.
namespace detail {

/// elem_ops is what the runtime knows of a channel's element type (the
/// part of Go's *_type that chan.go uses): its size and alignment, and how
/// to move one into raw storage and destroy one. Go copies elements with
/// typedmemmove; C++ elements are moved, and destroyed exactly once.
struct elem_ops {
  std::size_t size;   ///< sizeof(T)
  std::size_t align;  ///< alignof(T)
  /// move_construct builds a T at raw `dst` from the T at `src` (moved
  /// from, still alive). noexcept: the runtime moves under a channel's
  /// lock, so a move that throws terminates the program.
  void (*move_construct)(void* dst, void* src) noexcept;
  /// destroy ends the life of the T at p.
  void (*destroy)(void* p) noexcept;
};

/// The elem_ops of T.
template <class T>
inline constexpr elem_ops elem_ops_of{
    sizeof(T), alignof(T),
    [](void* dst, void* src) noexcept { ::new (dst) T(std::move(*static_cast<T*>(src))); },
    [](void* p) noexcept { static_cast<T*>(p)->~T(); }};

struct hchan;  // the channel itself (src/chan.cpp)

/// makechan makes a channel of `size` elements of type *t (Go's makechan).
/// Throws runtime_error "makechan: size out of range" if size is too large.
hchan* makechan(const elem_ops* t, std::size_t size);
/// chan_retain adds a reference to c (a handle was copied).
void chan_retain(hchan* c) noexcept;
/// chan_release drops a reference; the last frees c and the elements still
/// in its buffer.
void chan_release(hchan* c) noexcept;
/// chansend1 is `c <- *elem`: blocks until the value is delivered or
/// buffered; moves from *elem. Panics (throws runtime_error) if c is closed.
void chansend1(hchan* c, void* elem);
/// chanrecv1 is `v, ok := <-c` into raw storage at elem: returns true with
/// a T built there, or false, building nothing, once c is closed and empty.
bool chanrecv1(hchan* c, void* elem);
/// closechan is close(c).
void closechan(hchan* c);
/// chanlen is len(c); 0 for nil.
std::size_t chanlen(const hchan* c) noexcept;
/// chancap is cap(c); 0 for nil.
std::size_t chancap(const hchan* c) noexcept;
/// selectnbsend is `select { case c <- *elem: return true; default: return
/// false }`.
bool selectnbsend(hchan* c, void* elem);
/// selectnbrecv is `select { case v, ok = <-c: ...; default: ... }`:
/// returns {selected, received}.
std::pair<bool, bool> selectnbrecv(void* elem, hchan* c);

/// One case of a select for selectgo (Go's scase): a channel and the value
/// to send, or the raw storage to receive into.
struct scase {
  hchan* c;    ///< the channel; nullptr: never ready
  void* elem;  ///< the value sent, or where the received value goes
};
/// selectgo runs a select of nsends send cases, then nrecvs receive cases,
/// in cas0 (Go's selectgo). order0 is scratch space for 2*(nsends+nrecvs)
/// indices. Returns the index of the case that ran and, for a receive,
/// whether a value was received; {-1, false} if !block and none was ready.
std::pair<int, bool> selectgo(scase* cas0, std::uint16_t* order0, int nsends, int nrecvs,
                              bool block);
/// block is `select {}`: parks the goroutine forever (Go's block).
[[noreturn]] void block();
/// after makes a channel of capacity 1 that receives the time once ns
/// nanoseconds have passed (Go's time.After over a runtime timer).
hchan* after(std::int64_t ns);

/// slot is raw storage for a T that a receive may build, as Go's receiver
/// passes &v for chanrecv to fill.
template <class T>
struct slot {
  alignas(T) unsigned char bytes[sizeof(T)];
  /// Its address, for the runtime.
  void* get() noexcept { return bytes; }
  /// take moves out the T a receive built here, and destroys it.
  T take() noexcept(std::is_nothrow_move_constructible_v<T>) {
    T* p = std::launder(reinterpret_cast<T*>(bytes));
    struct destroy_on_exit {
      T* p;
      ~destroy_on_exit() { p->~T(); }
    } guard{p};
    return T(std::move(*p));
  }
};

template <class T>
struct chan_access;

}  // namespace detail

template <class T>
class chan;
template <class T>
chan<T> make_chan(std::size_t capacity = 0);

/// chan is a channel of T (Go's chan T): a handle that copies cheaply and
/// compares by identity; the channel lives while a handle does. A
/// default-constructed chan is the nil channel, on which send and recv
/// block forever. Every operation except size() and capacity() must run
/// in a goroutine (std::logic_error otherwise).
template <class T>
class chan {
 public:
  /// The element type.
  using value_type = T;

  /// The nil channel.
  chan() noexcept = default;
  /// Another handle to the same channel.
  chan(const chan& o) noexcept : c_(o.c_) {
    if (c_ != nullptr) detail::chan_retain(c_);
  }
  /// Takes o's channel; o becomes nil.
  chan(chan&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
  /// Makes this a handle to o's channel.
  chan& operator=(chan o) noexcept {
    std::swap(c_, o.c_);
    return *this;
  }
  ~chan() {
    if (c_ != nullptr) detail::chan_release(c_);
  }

  /// send is `ch <- value`: blocks until a receiver takes the value or the
  /// buffer has room for it. Throws runtime_error "send on closed channel"
  /// if the channel is closed, also while send waits.
  void send(T value) { detail::chansend1(c_, std::addressof(value)); }
  /// recv is `v, ok := <-ch`: blocks until a value comes; std::nullopt
  /// once the channel is closed and its buffer drained.
  std::optional<T> recv() {
    detail::slot<T> s;
    if (!detail::chanrecv1(c_, s.get())) return std::nullopt;
    return std::optional<T>(s.take());
  }
  /// close is close(ch): receivers drain the buffer, then get nullopt;
  /// blocked senders panic. Throws runtime_error "close of nil channel" or
  /// "close of closed channel".
  void close() { detail::closechan(c_); }
  /// size is len(ch): the number of elements buffered now.
  std::size_t size() const noexcept { return detail::chanlen(c_); }
  /// capacity is cap(ch): the buffer's size.
  std::size_t capacity() const noexcept { return detail::chancap(c_); }

  /// Whether a and b are the same channel (Go's ==).
  friend bool operator==(const chan& a, const chan& b) noexcept { return a.c_ == b.c_; }

  /// The end of a range over a channel.
  struct sentinel {};
  /// An input iterator that receives: `for (T v : ch)` runs until the
  /// channel is closed and drained, like Go's `for v := range ch`.
  class iterator {
   public:
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    /// The value received last.
    T& operator*() { return *cur_; }
    /// Receives the next value.
    iterator& operator++() {
      cur_.reset();  // (not cur_ = recv(): T need not be assignable)
      if (auto v = ch_->recv()) cur_.emplace(std::move(*v));
      return *this;
    }
    /// Receives the next value.
    void operator++(int) { ++*this; }
    /// Whether the channel is closed and drained.
    friend bool operator==(const iterator& it, sentinel) { return !it.cur_.has_value(); }

   private:
    friend class chan;
    explicit iterator(chan* ch) : ch_(ch) {}
    chan* ch_;
    std::optional<T> cur_;
  };
  /// Receives the first value (see iterator).
  iterator begin() {
    iterator it(this);
    ++it;
    return it;
  }
  /// See iterator.
  sentinel end() noexcept { return {}; }

 private:
  friend chan make_chan<T>(std::size_t);
  friend struct detail::chan_access<T>;
  explicit chan(detail::hchan* c) noexcept : c_(c) {}
  detail::hchan* c_ = nullptr;
};

/// make_chan makes a channel of T with a buffer of `capacity` elements (Go's
/// make(chan T, capacity)); 0 is unbuffered: a send waits for a receiver.
template <class T>
chan<T> make_chan(std::size_t capacity) {
  static_assert(std::is_move_constructible_v<T> && std::is_destructible_v<T>,
                "a channel's element type must be move-constructible");
  return chan<T>(detail::makechan(&detail::elem_ops_of<T>, capacity));
}

namespace detail {

/// chan_access lets select and after reach a handle's hchan.
template <class T>
struct chan_access {
  static hchan* get(const chan<T>& ch) noexcept { return ch.c_; }
  static chan<T> adopt(hchan* c) noexcept { return chan<T>(c); }
};

/// The channel of a select case. A case given a named channel borrows it,
/// as a std::string_view borrows a string: no reference is counted, so a
/// select costs no atomic operation per case, and a goroutine left parked
/// in a select when main returns holds no reference to anything. A case
/// given a temporary channel (`recv_case(after(1s), ...)`) keeps it alive
/// itself.
template <class T>
struct case_chan {
  chan<T> owned;  ///< the channel, if the case was given a temporary
  hchan* c;       ///< the channel the case works on
  /// Borrows ch, which must outlive the case (it does, in a select call).
  explicit case_chan(const chan<T>& ch) noexcept : c(chan_access<T>::get(ch)) {}
  /// Takes ch over.
  explicit case_chan(chan<T>&& ch) noexcept : owned(std::move(ch)), c(chan_access<T>::get(owned)) {}
};

/// A receive case of select (see recv_case).
template <class T, class F>
struct recv_case_t {
  case_chan<T> ch;  ///< the channel
  F f;              ///< runs with what was received
  slot<T> into;     ///< where the value lands
  static constexpr bool is_send = false;
  static constexpr bool is_default = false;
  scase make() { return {ch.c, into.get()}; }
  void fire(bool received) {
    std::optional<T> v;
    if (received) v.emplace(into.take());
    if constexpr (std::is_invocable_v<F&, std::optional<T>>) {
      f(std::move(v));
    } else {
      f();
    }
  }
};

/// A send case of select (see send_case).
template <class T, class F>
struct send_case_t {
  case_chan<T> ch;  ///< the channel
  T value;          ///< the value to send; moved from if the case runs
  F f;              ///< runs once the value is sent
  static constexpr bool is_send = true;
  static constexpr bool is_default = false;
  scase make() { return {ch.c, std::addressof(value)}; }
  void fire(bool) { f(); }
};

/// The default case of select (see default_case).
template <class F>
struct default_case_t {
  F f;  ///< runs if no other case is ready
  static constexpr bool is_send = false;
  static constexpr bool is_default = true;
  void fire(bool) { f(); }
};

/// Runs case i of cs.
template <class Tuple, std::size_t... I>
void fire_case(Tuple& cs, std::size_t i, bool received, std::index_sequence<I...>) {
  ((i == I ? (std::get<I>(cs).fire(received), 0) : 0), ...);
}

}  // namespace detail

/// recv_case is `case v, ok := <-ch:` in a select: if it is chosen, f runs
/// with the value, or std::nullopt if the channel was closed (f may also
/// take no argument). A named channel is borrowed, not copied: the case
/// must not outlive it (see case_chan).
template <class T, class F>
detail::recv_case_t<T, std::decay_t<F>> recv_case(const chan<T>& ch, F&& f) {
  return {detail::case_chan<T>(ch), std::forward<F>(f), {}};
}
/// recv_case on a temporary channel, which the case keeps alive.
template <class T, class F>
detail::recv_case_t<T, std::decay_t<F>> recv_case(chan<T>&& ch, F&& f) {
  return {detail::case_chan<T>(std::move(ch)), std::forward<F>(f), {}};
}
/// send_case is `case ch <- value:` in a select: if it is chosen, the value
/// is sent and f() runs. Sending on a closed channel panics, as in Go. The
/// channel is borrowed as by recv_case.
template <class T, class F>
detail::send_case_t<T, std::decay_t<F>> send_case(const chan<T>& ch, std::type_identity_t<T> value, F&& f) {
  return {detail::case_chan<T>(ch), std::move(value), std::forward<F>(f)};
}
/// send_case on a temporary channel, which the case keeps alive.
template <class T, class F>
detail::send_case_t<T, std::decay_t<F>> send_case(chan<T>&& ch, std::type_identity_t<T> value, F&& f) {
  return {detail::case_chan<T>(std::move(ch)), std::move(value), std::forward<F>(f)};
}
/// default_case is `default:` in a select: f() runs if no other case is
/// ready, and select never blocks.
template <class F>
detail::default_case_t<std::decay_t<F>> default_case(F&& f) {
  return {std::forward<F>(f)};
}

/// select is Go's select statement: it waits until one of the cases can
/// go on, runs that one case's function and returns its index among the
/// arguments. If several are ready it picks one uniformly at random. With
/// a default_case it never blocks; with no case at all it blocks forever.
/// Cases on a nil channel are never ready. The chosen case's function runs
/// after select has released every channel, so it may block or select
/// again. As Go's compiler does, a select of one case and no default is a
/// plain send or receive, and one case plus default a non-blocking one.
template <class... Cases>
std::size_t select(Cases&&... cases) {
  constexpr std::size_t ndefault = ((std::decay_t<Cases>::is_default ? 1 : 0) + ... + 0);
  static_assert(ndefault <= 1, "select: multiple defaults");
  constexpr std::size_t n = sizeof...(Cases) - ndefault;
  constexpr bool is_default[] = {std::decay_t<Cases>::is_default..., false};
  auto cs = std::forward_as_tuple(cases...);
  constexpr auto seq = std::index_sequence_for<Cases...>{};
  constexpr std::size_t none = sizeof...(Cases);

  std::size_t dflt = none;
  for (std::size_t i = 0; i < sizeof...(Cases); i++) {
    if (is_default[i]) dflt = i;
  }
  if constexpr (n == 0) {
    if constexpr (ndefault == 0) {
      detail::block();  // select {}
    } else {
      detail::fire_case(cs, dflt, false, seq);
      return dflt;
    }
  } else {
    // The scases, sends first as Go's compiler orders them, and which
    // argument each came from.
    detail::scase cas[n];
    std::size_t arg[n];
    int nsends = 0, nrecvs = 0;
    auto add = [&](auto& c, std::size_t i, bool sends) {
      using C = std::decay_t<decltype(c)>;
      if constexpr (!C::is_default) {
        if (C::is_send == sends) {
          cas[nsends + nrecvs] = c.make();
          arg[nsends + nrecvs] = i;
          (sends ? nsends : nrecvs)++;
        }
      }
    };
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (add(std::get<I>(cs), I, true), ...);
      (add(std::get<I>(cs), I, false), ...);
    }(seq);

    int casi;
    bool received;
    if constexpr (n == 1 && ndefault == 0) {
      // One case: a plain channel operation (Go's walkSelectCases).
      if (nsends == 1) {
        detail::chansend1(cas[0].c, cas[0].elem);
        received = false;
      } else {
        received = detail::chanrecv1(cas[0].c, cas[0].elem);
      }
      casi = 0;
    } else if constexpr (n == 1) {
      // One case and default: a non-blocking operation.
      bool selected;
      if (nsends == 1) {
        selected = detail::selectnbsend(cas[0].c, cas[0].elem);
        received = false;
      } else {
        std::tie(selected, received) = detail::selectnbrecv(cas[0].elem, cas[0].c);
      }
      casi = selected ? 0 : -1;
    } else {
      std::uint16_t order[2 * n];
      std::tie(casi, received) = detail::selectgo(cas, order, nsends, nrecvs, ndefault == 0);
    }
    const std::size_t chosen = casi < 0 ? dflt : arg[casi];
    detail::fire_case(cs, chosen, received, seq);
    return chosen;
  }
}

/// after is time.After: a channel of capacity 1 that receives the time
/// (steady_clock::now() when the timer fires) once d has passed. The timer
/// lives in the P's timer heap with the sleepers'. Like Go 1.19's, it stays
/// there until it fires, even if nobody receives any more, and costs no
/// thread meanwhile.
inline chan<std::chrono::steady_clock::time_point> after(std::chrono::nanoseconds d) {
  using tp = std::chrono::steady_clock::time_point;
  return detail::chan_access<tp>::adopt(detail::after(d.count()));
}

}  // namespace goro
