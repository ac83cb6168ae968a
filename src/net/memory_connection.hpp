#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "net/connection.hpp"
#include "net/loop.hpp"

namespace brigade::net {

// A connection without a socket, for tests and fuzzers: input is pushed with
// receive(), output accumulates in output(). Same queueing and flush-per-turn
// behaviour as a TCP connection, driven by Loop::poll().
class MemoryConnection final : public TcpConnection {
 public:
  explicit MemoryConnection(Loop& loop, size_t maxQueued = kDefaultMaxQueued)
      : loop_(loop), maxQueued_(maxQueued) {}

  // Bytes from the peer.
  void receive(std::string_view bytes);
  // The peer closes.
  void peerClose() { closeNow("transport close"); }
  // Everything written so far, and take it.
  std::string takeOutput() { return std::exchange(output_, {}); }
  const std::string& closeReason() const { return closeReason_; }

  Loop& loop() override { return loop_; }
  void send(BufferRef bytes) override;
  void close(bool graceful) override;
  // In memory there is no reset to avoid: a graceful close, remembered for tests.
  void closeLingering() override {
    lingered_ = true;
    close(true);
  }
  bool lingered() const { return lingered_; }
  bool closed() const override { return closed_; }
  void setHandler(std::unique_ptr<ConnectionHandler> handler) override;
  void inject(std::string_view bytes) override { receive(bytes); }
  void resume() override;
  void readNow() override { deliver(); }
  size_t queuedBytes() const override { return queued_.size(); }
  bool writable() const override { return queued_.size() < kHighWatermark; }
  void setMaxQueued(size_t bytes) override { maxQueued_ = bytes; }
  std::string remoteAddress() const override { return remote_; }
  void setRemoteAddress(std::string address) { remote_ = std::move(address); }
  void attach(std::shared_ptr<void> owned) override {
    if (!closed_) attached_.push_back(std::move(owned));
  }
  void moveTo(Loop& target, std::function<void(const TcpConnectionPtr&)> then) override;
  void flush() override;

 private:
  void deliver();
  void closeNow(const std::string& reason);

  Loop& loop_;
  size_t maxQueued_;
  std::string remote_ = "127.0.0.1";
  std::unique_ptr<ConnectionHandler> handler_;
  std::vector<std::unique_ptr<ConnectionHandler>> retired_;
  std::vector<std::shared_ptr<void>> attached_;
  std::string inbox_;
  std::string queued_;  // sent, not yet flushed
  std::string output_;  // flushed: what the peer has received
  std::string closeReason_;
  bool flushRequested_ = false;
  bool closing_ = false;
  bool lingered_ = false;
  bool overflowed_ = false;
  bool closed_ = false;
  bool inDispatch_ = false;
};

}  // namespace brigade::net
