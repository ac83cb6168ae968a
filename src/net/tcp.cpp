#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/socket_base.hpp>
#include <span>
#include <vector>

#include "core/assert.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "net/connection.hpp"
#include "net/listener.hpp"
#include "net/loop.hpp"

namespace brigade::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
// Sockets bound to the io_context's own executor type: asynchronous operations on
// them carry an 8-byte executor instead of a polymorphic any_io_executor.
using Socket = tcp::socket::rebind_executor<asio::io_context::executor_type>::other;

namespace {

// Buffers gathered into one writev (asio's own per-call maximum is 64).
constexpr size_t kMaxGather = 64;
// Pause after a failed accept (EMFILE...) before accepting again.
constexpr int64_t kAcceptRetryMs = 100;
// Reads per readiness event before yielding to other connections of the loop.
constexpr int kMaxReadsPerWake = 4;

class TcpConnectionImpl final : public TcpConnection {
 public:
  TcpConnectionImpl(Loop& loop, Socket socket) : loop_(loop), socket_(std::move(socket)) {}

  void start() {
    boost::system::error_code ec;
    socket_.non_blocking(true, ec);
    socket_.set_option(tcp::no_delay(true), ec);
    waitReadable();
  }

  Loop& loop() override { return loop_; }
  bool closed() const override { return closed_; }
  size_t queuedBytes() const override { return queued_; }
  bool writable() const override { return !overHigh_; }
  void setMaxQueued(size_t bytes) override { maxQueued_ = bytes; }
  std::string remoteAddress() const override {
    boost::system::error_code ec;
    auto endpoint = socket_.remote_endpoint(ec);
    return ec ? std::string() : endpoint.address().to_string();
  }

  void attach(std::shared_ptr<void> owned) override {
    if (closed_) return;
    attached_.push_back(std::move(owned));
  }

  void setHandler(std::unique_ptr<ConnectionHandler> handler) override {
    BRIGADE_ASSERT_IN_LOOP(loop_);
    // A handler replaced while it runs (an HTTP upgrade) lives until it returns.
    if (inDispatch_) retired_ = std::move(handler_);
    handler_ = std::move(handler);
  }

  void send(BufferRef bytes) override {
    BRIGADE_ASSERT_IN_LOOP(loop_);
    if (closed_ || closing_ || bytes.bytes.empty()) return;
    queued_ += bytes.bytes.size();
    queue_.push_back(std::move(bytes));
    if (queued_ > maxQueued_) {
      overflow();
      return;
    }
    if (queued_ > kHighWatermark) {
      if (!overHigh_) {
        overHigh_ = true;
        overHighSince_ = nowMs();
      } else if (nowMs() - overHighSince_ > kSlowClientGraceMs) {
        overflow();
        return;
      }
    }
    if (!flushRequested_ && !writeWaiting_) {
      flushRequested_ = true;
      loop_.requestFlush(shared_from_this());
    }
  }

  // A reader too slow for its queue. The close runs later on this loop, not inside
  // send(): the caller may be walking a list that onClose would change (a
  // broadcast going through a room's sockets). Nothing more is queued meanwhile.
  void overflow() {
    closing_ = true;
    overflowed_ = true;
    queue_.clear();
    head_ = 0;
    partial_ = 0;
    queued_ = 0;
    auto self = shared_from_this();
    loop_.post([self, this] { closeNow(std::string(kReasonSendOverflow)); });
  }

  void close(bool graceful) override {
    BRIGADE_ASSERT_IN_LOOP(loop_);
    if (closed_) return;
    if (!graceful || (queued_ == 0 && !writeWaiting_)) {
      closeNow("server closed");
      return;
    }
    closing_ = true;
  }

  void closeLingering() override {
    BRIGADE_ASSERT_IN_LOOP(loop_);
    if (closed_) return;
    lingerRequested_ = true;
    if (queued_ == 0 && !writeWaiting_) {
      startLinger();
      return;
    }
    closing_ = true;
  }

  void inject(std::string_view bytes) override {
    BRIGADE_ASSERT_IN_LOOP(loop_);
    if (closed_) return;
    inbox_.append(bytes);
    resume();
  }

  void resume() override {
    if (closed_ || inbox_.empty()) return;
    auto self = shared_from_this();
    loop_.post([self, this] {
      if (closed_ || inbox_.empty()) return;
      deliver({});
    });
  }

  void readNow() override {
    BRIGADE_ASSERT_IN_LOOP(loop_);
    // Not the loop's shared read buffer: the caller may be a handler of another
    // connection still holding a view into it.
    std::array<char, 16 * 1024> buffer;
    for (int i = 0; i < kMaxReadsPerWake && !closed_ && handler_; ++i) {
      boost::system::error_code ec;
      size_t n = socket_.read_some(asio::buffer(buffer), ec);
      if (ec == asio::error::would_block) return;
      if (ec) {
        closeNow(ec == asio::error::eof ? "transport close" : ec.message());
        return;
      }
      deliver(std::string_view(buffer.data(), n));
      if (n < buffer.size()) return;
    }
  }

  void moveTo(Loop& target,
              std::function<void(const std::shared_ptr<TcpConnection>&)> then) override {
    BRIGADE_ASSERT_IN_LOOP(loop_);
    if (&target == &loop_) {
      then(shared_from_this());
      return;
    }
    boost::system::error_code ec;
    auto protocol = socket_.local_endpoint(ec).protocol();
    closed_ = true;  // pending waits complete with operation_aborted and see this
    int fd = socket_.release(ec);
    auto attached = std::move(attached_);
    // Bytes queued and not yet written go first on the new loop (a TLS layer's records
    // written in this turn must not be lost: the stream would be out of sequence).
    std::vector<BufferRef> unsent;
    size_t partial = partial_;
    if (head_ < queue_.size())
      unsent.assign(queue_.begin() + static_cast<ptrdiff_t>(head_), queue_.end());
    queue_.clear();
    head_ = partial_ = queued_ = 0;
    if (ec) return;
    target.post([&target, fd, protocol, attached = std::move(attached), unsent = std::move(unsent),
                 partial, then = std::move(then)]() mutable {
      Socket socket(target.context());
      boost::system::error_code ec2;
      socket.assign(protocol, fd, ec2);
      if (ec2) return;
      auto moved = std::make_shared<TcpConnectionImpl>(target, std::move(socket));
      moved->attached_ = std::move(attached);
      if (!unsent.empty()) {
        for (const auto& b : unsent) moved->queued_ += b.bytes.size();
        moved->queued_ -= partial;
        moved->queue_ = std::move(unsent);
        moved->partial_ = partial;
        moved->flushRequested_ = true;
        target.requestFlush(moved);
      }
      then(moved);
      moved->start();
    });
  }

  void flush() override {
    BRIGADE_ASSERT_IN_LOOP(loop_);
    flushRequested_ = false;
    if (closed_ || writeWaiting_) return;
    writeSome();
  }

 private:
  void waitReadable() {
    readWaiting_ = true;
    auto self = shared_from_this();
    socket_.async_wait(tcp::socket::wait_read, [self, this](const boost::system::error_code& ec) {
      readWaiting_ = false;
      if (lingering_) {
        if (ec) {
          finishLinger();
        } else {
          drainLinger();
        }
        return;
      }
      if (closed_) return;
      if (ec) {
        closeNow(ec.message());
        return;
      }
      onReadable();
    });
  }

  // The answer is written: send FIN, then read and drop until the peer closes too
  // (or the bounds run out), so that no reset overtakes the answer.
  void startLinger() {
    if (closed_) return;
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    if (ec) {
      closeNow("server closed");
      return;
    }
    lingering_ = true;
    closed_ = true;  // for the handler and every caller: this connection is over
    queue_.clear();
    queued_ = 0;
    std::string().swap(inbox_);
    if (handler_) {
      auto self = shared_from_this();
      handler_->onClose("server closed");
    }
    auto self = shared_from_this();
    lingerTimer_ = loop_.runAfter(kLingerMs, [self, this] { finishLinger(); });
    if (!readWaiting_) waitReadable();
  }

  void drainLinger() {
    auto& buffer = loop_.readBuffer();
    while (lingering_) {
      boost::system::error_code ec;
      size_t n = socket_.read_some(asio::buffer(buffer), ec);
      if (ec == asio::error::would_block) {
        waitReadable();
        return;
      }
      lingered_ += n;
      if (ec || lingered_ > kLingerMaxBytes) {
        finishLinger();
        return;
      }
    }
  }

  void finishLinger() {
    if (!lingering_) return;
    lingering_ = false;
    Loop::cancel(std::exchange(lingerTimer_, nullptr));
    boost::system::error_code ec;
    socket_.close(ec);
    attached_.clear();  // a lingering socket still holds its place in the counts
  }

  void onReadable() {
    auto& buffer = loop_.readBuffer();
    for (int i = 0; i < kMaxReadsPerWake && !closed_; ++i) {
      boost::system::error_code ec;
      size_t n = socket_.read_some(asio::buffer(buffer), ec);
      if (ec == asio::error::would_block) break;
      if (ec) {
        closeNow(ec == asio::error::eof ? "transport close" : ec.message());
        return;
      }
      deliver(std::string_view(buffer.data(), n));
      if (n < buffer.size()) break;
    }
    if (!closed_) waitReadable();
  }

  // Hands bytes to the handler, keeping what it leaves unconsumed.
  void deliver(std::string_view fresh) {
    if (!handler_) return;
    auto self = shared_from_this();  // the handler may drop the last owner
    inDispatch_ = true;
    if (inbox_.empty() && !fresh.empty()) {
      size_t used = handler_->onData(fresh);
      if (!closed_ && used < fresh.size()) inbox_.assign(fresh.substr(used));
    } else {
      inbox_.append(fresh);
      size_t used = handler_->onData(inbox_);
      if (!closed_) inbox_.erase(0, used);
    }
    inDispatch_ = false;
    retired_.reset();
    if (!closed_ && inbox_.size() > kMaxUnconsumed) closeNow("request too large");
    if (inbox_.empty() && inbox_.capacity() > 4096) std::string().swap(inbox_);
  }

  void writeSome() {
    while (queue_.size() > head_) {
      std::array<asio::const_buffer, kMaxGather> buffers;
      size_t count = 0;
      for (size_t i = head_; i < queue_.size() && count < kMaxGather; ++i) {
        const auto& bytes = queue_[i].bytes;
        size_t skip = count == 0 ? partial_ : 0;
        buffers[count++] = asio::const_buffer(bytes.data() + skip, bytes.size() - skip);
      }
      boost::system::error_code ec;
      size_t n = socket_.write_some(std::span<const asio::const_buffer>(buffers.data(), count), ec);
      if (ec == asio::error::would_block) {
        waitWritable();
        return;
      }
      if (ec) {
        closeNow(ec.message());
        return;
      }
      consume(n);
    }
    queue_.clear();
    head_ = 0;
    partial_ = 0;
    if (queue_.capacity() > 16) std::vector<BufferRef>().swap(queue_);
    if (closing_ && !overflowed_) {  // an overflow's own close is already posted
      if (lingerRequested_) {
        startLinger();
      } else {
        closeNow("server closed");
      }
    }
  }

  void consume(size_t n) {
    queued_ -= n;
    while (n > 0) {
      size_t left = queue_[head_].bytes.size() - partial_;
      if (n >= left) {
        n -= left;
        queue_[head_].owner.reset();
        ++head_;
        partial_ = 0;
      } else {
        partial_ += n;
        n = 0;
      }
    }
    if (overHigh_ && queued_ < kLowWatermark) {
      overHigh_ = false;
      if (handler_) handler_->onDrain();
    }
  }

  void waitWritable() {
    writeWaiting_ = true;
    auto self = shared_from_this();
    socket_.async_wait(tcp::socket::wait_write, [self, this](const boost::system::error_code& ec) {
      writeWaiting_ = false;
      if (closed_) return;
      if (ec) {
        closeNow(ec.message());
        return;
      }
      writeSome();
    });
  }

  void closeNow(const std::string& reason) {
    if (lingering_) {
      finishLinger();
      return;
    }
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    queue_.clear();
    queued_ = 0;
    std::string().swap(inbox_);
    if (handler_) {
      auto self = shared_from_this();
      handler_->onClose(reason);
    }
    attached_.clear();
  }

  Loop& loop_;
  Socket socket_;
  std::unique_ptr<ConnectionHandler> handler_;
  std::unique_ptr<ConnectionHandler> retired_;
  std::vector<std::shared_ptr<void>> attached_;
  std::string inbox_;
  std::vector<BufferRef> queue_;
  size_t head_ = 0;
  size_t partial_ = 0;  // bytes of queue_[head_] already written
  size_t queued_ = 0;
  size_t maxQueued_ = kDefaultMaxQueued;
  bool flushRequested_ = false;
  bool writeWaiting_ = false;
  bool closing_ = false;
  bool closed_ = false;
  bool readWaiting_ = false;
  bool overflowed_ = false;
  bool lingerRequested_ = false;
  bool lingering_ = false;
  size_t lingered_ = 0;  // bytes dropped while lingering
  std::shared_ptr<Loop::TimerHandle> lingerTimer_;
  bool overHigh_ = false;
  int64_t overHighSince_ = 0;
  bool inDispatch_ = false;
};

}  // namespace

struct Listener::Impl {
  Impl(LoopGroup& l, OnAccept fn) : loops(l), onAccept(std::move(fn)) {}
  LoopGroup& loops;
  OnAccept onAccept;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  // Set by close() from any thread (main, at shutdown) while the loops accept.
  std::atomic<bool> closed{false};

  void accept(Loop& loop, tcp::acceptor& acceptor) {
    acceptor.async_accept(loop.context(), [this, &loop, &acceptor](
                                              const boost::system::error_code& ec, Socket socket) {
      if (ec == asio::error::operation_aborted || closed) return;
      if (!ec) {
        auto connection = std::make_shared<TcpConnectionImpl>(loop, std::move(socket));
        onAccept(connection);
        connection->start();
      } else {
        // Out of descriptors and the like: try again a little later (not in a tight
        // loop), the condition may pass as connections close.
        spdlog::warn("accept failed: {}", ec.message());
        loop.runAfter(kAcceptRetryMs, [this, &loop, &acceptor] {
          if (!closed) accept(loop, acceptor);
        });
        return;
      }
      accept(loop, acceptor);
    });
  }
};

Listener::Listener(LoopGroup& loops, OnAccept onAccept)
    : impl_(std::make_unique<Impl>(loops, std::move(onAccept))) {}

Listener::~Listener() {
  close();
}

void Listener::listen(const std::string& host, uint16_t port, int backlog) {
  auto address = asio::ip::make_address(host);
  using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
  for (unsigned i = 0; i < impl_->loops.size(); ++i) {
    Loop& loop = impl_->loops.at(i);
    auto acceptor = std::make_unique<tcp::acceptor>(loop.context());
    tcp::endpoint endpoint(address, port);
    acceptor->open(endpoint.protocol());
    acceptor->set_option(tcp::acceptor::reuse_address(true));
    acceptor->set_option(ReusePort(true));
    acceptor->bind(endpoint);
    acceptor->listen(backlog);
    port = acceptor->local_endpoint().port();  // the next loops bind the same port
    impl_->acceptors.push_back(std::move(acceptor));
  }
  port_ = port;
  for (unsigned i = 0; i < impl_->loops.size(); ++i) {
    Loop& loop = impl_->loops.at(i);
    tcp::acceptor& acceptor = *impl_->acceptors[i];
    loop.post([this, &loop, &acceptor] { impl_->accept(loop, acceptor); });
  }
}

void Listener::close() {
  if (!impl_ || impl_->closed.exchange(true)) return;
  for (unsigned i = 0; i < impl_->acceptors.size(); ++i) {
    auto* acceptor = impl_->acceptors[i].get();
    impl_->loops.at(i).dispatch([acceptor] {
      boost::system::error_code ec;
      acceptor->close(ec);
    });
  }
}

}  // namespace brigade::net
