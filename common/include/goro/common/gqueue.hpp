// gqueue.hpp: intrusive queues of goroutines, Go's gQueue and gList
// (runtime/proc.go). Introduced in chapter 01; no chapter changes it.
#pragma once

#include <cstddef>

namespace goro::common {

/// gqueue is a FIFO of T linked through the member `Link` (Go's gQueue,
/// linked through g.schedlink). It allocates nothing: an element carries
/// its own link, so it can be on at most one gqueue (or glist) at a time.
/// Not thread-safe: its owner's lock, or its owner alone, guards it.
template <class T, T* T::*Link>
class gqueue {
 public:
  /// Whether the queue is empty.
  bool empty() const { return head_ == nullptr; }
  /// The number of elements.
  std::size_t size() const { return size_; }
  /// push_back adds gp at the tail (Go's gQueue.pushBack).
  void push_back(T* gp) {
    gp->*Link = nullptr;
    if (tail_ != nullptr) tail_->*Link = gp; else head_ = gp;
    tail_ = gp;
    size_++;
  }
  /// push_front adds gp at the head (Go's gQueue.push).
  void push_front(T* gp) {
    gp->*Link = head_;
    head_ = gp;
    if (tail_ == nullptr) tail_ = gp;
    size_++;
  }
  /// push_back_all moves every element of q to our tail, leaving q empty
  /// (Go's gQueue.pushBackAll).
  void push_back_all(gqueue& q) {
    if (q.empty()) return;
    if (tail_ != nullptr) tail_->*Link = q.head_; else head_ = q.head_;
    tail_ = q.tail_;
    size_ += q.size_;
    q = gqueue{};
  }
  /// pop removes and returns the head, or nullptr (Go's gQueue.pop).
  T* pop() {
    T* gp = head_;
    if (gp == nullptr) return nullptr;
    head_ = gp->*Link;
    if (head_ == nullptr) tail_ = nullptr;
    gp->*Link = nullptr;
    size_--;
    return gp;
  }
  /// front returns the head without removing it.
  T* front() const { return head_; }

 private:
  T* head_ = nullptr;
  T* tail_ = nullptr;
  std::size_t size_ = 0;
};

/// glist is a LIFO stack of T linked through `Link` (Go's gList).
template <class T, T* T::*Link>
class glist {
 public:
  /// Whether the list is empty.
  bool empty() const { return head_ == nullptr; }
  /// The number of elements.
  std::size_t size() const { return size_; }
  /// push adds gp on top (Go's gList.push).
  void push(T* gp) {
    gp->*Link = head_;
    head_ = gp;
    size_++;
  }
  /// pop removes and returns the top, or nullptr (Go's gList.pop).
  T* pop() {
    T* gp = head_;
    if (gp == nullptr) return nullptr;
    head_ = gp->*Link;
    gp->*Link = nullptr;
    size_--;
    return gp;
  }

 private:
  T* head_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace goro::common
