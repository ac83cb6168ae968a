#include "net/memory_connection.hpp"

#include "core/assert.hpp"

namespace brigade::net {

void MemoryConnection::receive(std::string_view bytes) {
  if (closed_) return;
  inbox_.append(bytes);
  deliver();
}

void MemoryConnection::deliver() {
  if (!handler_ || closed_ || inbox_.empty() || inDispatch_) return;
  auto self = shared_from_this();
  inDispatch_ = true;
  size_t used = handler_->onData(inbox_);
  inDispatch_ = false;
  retired_.clear();
  if (!closed_) inbox_.erase(0, std::min(used, inbox_.size()));
}

void MemoryConnection::send(BufferRef bytes) {
  BRIGADE_ASSERT_IN_LOOP(loop_);
  if (closed_ || closing_) return;
  queued_.append(bytes.bytes);
  if (queued_.size() > maxQueued_) {
    // As on TCP: closed later on the loop, never inside send() (the caller may be
    // walking a list that the close changes).
    closing_ = true;
    overflowed_ = true;
    queued_.clear();
    auto self = shared_from_this();
    loop_.post([self, this] { closeNow(std::string(kReasonSendOverflow)); });
    return;
  }
  if (!flushRequested_) {
    flushRequested_ = true;
    loop_.requestFlush(shared_from_this());
  }
}

void MemoryConnection::flush() {
  BRIGADE_ASSERT_IN_LOOP(loop_);
  flushRequested_ = false;
  output_ += queued_;
  queued_.clear();
  if (closing_ && !overflowed_) closeNow("server closed");  // an overflow's close is posted
}

void MemoryConnection::close(bool graceful) {
  BRIGADE_ASSERT_IN_LOOP(loop_);
  if (closed_) return;
  if (!graceful || queued_.empty()) {
    output_ += queued_;
    queued_.clear();
    closeNow("server closed");
    return;
  }
  closing_ = true;
}

void MemoryConnection::setHandler(std::unique_ptr<ConnectionHandler> handler) {
  BRIGADE_ASSERT_IN_LOOP(loop_);
  if (handler_) retired_.push_back(std::move(handler_));
  handler_ = std::move(handler);
  if (!inDispatch_) retired_.clear();
}

void MemoryConnection::resume() {
  auto self = shared_from_this();
  loop_.post([self, this] { deliver(); });
}

void MemoryConnection::moveTo(Loop&, std::function<void(const TcpConnectionPtr&)> then) {
  then(shared_from_this());  // one loop in memory tests: nothing to move
}

void MemoryConnection::closeNow(const std::string& reason) {
  if (closed_) return;
  closed_ = true;
  closeReason_ = reason;
  if (handler_) {
    auto self = shared_from_this();
    handler_->onClose(reason);
  }
  attached_.clear();
}

}  // namespace brigade::net
