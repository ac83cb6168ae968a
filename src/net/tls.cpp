#include "net/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <array>
#include <utility>
#include <vector>

#include "core/assert.hpp"
#include "net/loop.hpp"

namespace brigade::net {
namespace {

// The first byte of a TLS record that carries a handshake (a ClientHello).
constexpr unsigned char kTlsHandshakeRecord = 0x16;
// Plaintext read per SSL_read call.
constexpr size_t kTlsReadChunk = 16 * 1024;

std::string openSslError(std::string_view what) {
  std::string out(what);
  unsigned long code = 0;
  bool first = true;
  while ((code = ERR_get_error()) != 0) {
    std::array<char, 256> text{};
    ERR_error_string_n(code, text.data(), text.size());
    out += first ? ": " : "; ";
    out += text.data();
    first = false;
  }
  return out;
}

int selectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, outlen, kHttp11, sizeof kHttp11, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;  // no http/1.1 offered: go on without ALPN
  }
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

Result<std::shared_ptr<SSL_CTX>> makeContext(const std::string& certFile,
                                             const std::string& keyFile) {
  ERR_clear_error();
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!ctx) return makeError("tls", openSslError("cannot create a TLS context"));
  SSL_CTX* c = ctx.get();
  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);  // idle connections keep no TLS buffers
  if (SSL_CTX_set_cipher_list(c, kTls12Ciphers) != 1) {
    return makeError("tls", openSslError("cannot set the ciphers"));
  }
  if (SSL_CTX_use_certificate_chain_file(c, certFile.c_str()) != 1) {
    return makeError("tls", openSslError("cannot read the certificate " + certFile));
  }
  if (SSL_CTX_use_PrivateKey_file(c, keyFile.c_str(), SSL_FILETYPE_PEM) != 1) {
    return makeError("tls", openSslError("cannot read the private key " + keyFile));
  }
  if (SSL_CTX_check_private_key(c) != 1) {
    return makeError("tls", openSslError("the key " + keyFile + " does not match the certificate"));
  }
  SSL_CTX_set_alpn_select_cb(c, selectAlpn, nullptr);
  return ctx;
}

// SSL object and what was decrypted but not yet taken by the handler: moved whole when the
// connection moves to another loop.
struct TlsState {
  explicit TlsState(SSL* s) : ssl(s) {}
  ~TlsState() { SSL_free(ssl); }
  TlsState(const TlsState&) = delete;
  TlsState& operator=(const TlsState&) = delete;

  SSL* ssl;
  std::string plain;             // decrypted, not yet consumed by the handler
  std::vector<BufferRef> early;  // sent before the handshake finished
  bool handshaken = false;
  bool sawFirstByte = false;
};

class TlsConnection;

// The TCP connection's handler: ciphertext in, close and drain passed up.
class TlsFilter final : public ConnectionHandler {
 public:
  explicit TlsFilter(std::shared_ptr<TlsConnection> tls) : tls_(std::move(tls)) {}
  size_t onData(std::string_view data) override;
  void onClose(std::string_view reason) override;
  void onDrain() override;

 private:
  std::shared_ptr<TlsConnection> tls_;
};

class TlsConnection final : public TcpConnection {
 public:
  TlsConnection(const TcpConnectionPtr& tcp, std::unique_ptr<TlsState> state)
      : loop_(tcp->loop()), tcp_(tcp), s_(std::move(state)) {}

  Loop& loop() override { return loop_; }

  void send(BufferRef bytes) override {
    BRIGADE_ASSERT_IN_LOOP(loop_);
    auto tcp = tcp_.lock();
    if (!tcp || tcp->closed() || closing_ || bytes.bytes.empty()) return;
    if (!s_->handshaken) {
      s_->early.push_back(std::move(bytes));
      return;
    }
    encrypt(*tcp, bytes.bytes);
  }

  void close(bool graceful) override {
    BRIGADE_ASSERT_IN_LOOP(loop_);
    auto tcp = tcp_.lock();
    if (!tcp || tcp->closed()) return;
    if (graceful) sayGoodbye(*tcp);
    closing_ = true;
    tcp->close(graceful);
  }

  void closeLingering() override {
    BRIGADE_ASSERT_IN_LOOP(loop_);
    auto tcp = tcp_.lock();
    if (!tcp || tcp->closed()) return;
    sayGoodbye(*tcp);
    closing_ = true;
    tcp->closeLingering();
  }

  bool closed() const override {
    auto tcp = tcp_.lock();
    return !tcp || tcp->closed();
  }

  void setHandler(std::unique_ptr<ConnectionHandler> handler) override {
    BRIGADE_ASSERT_IN_LOOP(loop_);
    if (inDispatch_) retired_ = std::move(handler_);
    handler_ = std::move(handler);
  }

  void inject(std::string_view bytes) override {
    BRIGADE_ASSERT_IN_LOOP(loop_);
    s_->plain.append(bytes);
    resume();
  }

  void resume() override {
    if (s_->plain.empty()) return;
    auto self = std::static_pointer_cast<TlsConnection>(shared_from_this());
    loop_.post([self] {
      if (!self->closed()) self->deliver();
    });
  }

  void readNow() override {
    if (auto tcp = tcp_.lock()) tcp->readNow();
  }

  size_t queuedBytes() const override {
    auto tcp = tcp_.lock();
    return tcp ? tcp->queuedBytes() : 0;
  }
  bool writable() const override {
    auto tcp = tcp_.lock();
    return tcp && tcp->writable();
  }
  void setMaxQueued(size_t bytes) override {
    if (auto tcp = tcp_.lock()) tcp->setMaxQueued(bytes);
  }
  std::string remoteAddress() const override {
    auto tcp = tcp_.lock();
    return tcp ? tcp->remoteAddress() : std::string();
  }
  void attach(std::shared_ptr<void> owned) override {
    if (auto tcp = tcp_.lock()) tcp->attach(std::move(owned));
  }

  void moveTo(Loop& target,
              std::function<void(const std::shared_ptr<TcpConnection>&)> then) override {
    BRIGADE_ASSERT_IN_LOOP(loop_);
    auto tcp = tcp_.lock();
    if (!tcp) return;
    if (&target == &loop_) {
      then(shared_from_this());
      return;
    }
    // The TLS session goes with the socket; this object stays behind, closed.
    auto state = std::shared_ptr<TlsState>(std::move(s_));
    s_ = std::make_unique<TlsState>(nullptr);
    tcp->moveTo(target, [state, then = std::move(then)](const TcpConnectionPtr& moved) mutable {
      auto owned = std::make_unique<TlsState>(std::exchange(state->ssl, nullptr));
      owned->plain = std::move(state->plain);
      owned->early = std::move(state->early);
      owned->handshaken = state->handshaken;
      owned->sawFirstByte = state->sawFirstByte;
      auto tls = std::make_shared<TlsConnection>(moved, std::move(owned));
      moved->setHandler(std::make_unique<TlsFilter>(tls));
      then(tls);
    });
  }

  void flush() override {
    if (auto tcp = tcp_.lock()) tcp->flush();
  }

  // --- from the filter -------------------------------------------------------------------

  void onCipher(std::string_view data) {
    auto tcp = tcp_.lock();
    if (!tcp || !s_->ssl) return;
    if (!s_->sawFirstByte && !data.empty()) {
      s_->sawFirstByte = true;
      if (static_cast<unsigned char>(data[0]) != kTlsHandshakeRecord) {
        // Plain HTTP (or anything else) on the TLS port: one clear answer, then close.
        tcp->send(std::string(kPlainHttpOnTlsPort));
        closing_ = true;
        tcp->closeLingering();
        return;
      }
    }
    BIO_write(SSL_get_rbio(s_->ssl), data.data(), static_cast<int>(data.size()));
    if (!s_->handshaken) {
      ERR_clear_error();
      const int r = SSL_do_handshake(s_->ssl);
      pushCipher(*tcp);
      if (r != 1) {
        const int error = SSL_get_error(s_->ssl, r);
        if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return;
        fail(*tcp, openSslError("TLS handshake failed"));
        return;
      }
      s_->handshaken = true;
      auto early = std::move(s_->early);
      for (const auto& bytes : early) encrypt(*tcp, bytes.bytes);
    }
    std::array<char, kTlsReadChunk> buffer;
    for (;;) {
      ERR_clear_error();
      const int n = SSL_read(s_->ssl, buffer.data(), static_cast<int>(buffer.size()));
      if (n > 0) {
        s_->plain.append(buffer.data(), static_cast<size_t>(n));
        continue;
      }
      const int error = SSL_get_error(s_->ssl, n);
      if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) break;
      pushCipher(*tcp);
      deliver();
      if (error == SSL_ERROR_ZERO_RETURN) {
        tcp->close(true);  // the peer's close_notify: its side is done
      } else {
        fail(*tcp, openSslError("TLS read failed"));
      }
      return;
    }
    pushCipher(*tcp);  // what reading produced (TLS 1.3 tickets, key updates)
    deliver();
  }

  void onClosed(std::string_view reason) {
    closing_ = true;
    if (auto handler = std::move(handler_)) handler->onClose(reason);
  }

  void onDrain() {
    if (handler_) handler_->onDrain();
  }

 private:
  void deliver() {
    if (!handler_ || s_->plain.empty()) return;
    auto self = shared_from_this();  // the handler may drop the last other reference
    // Taken out first: a handler that moves the connection to another loop (an upgrade
    // for a session there) has consumed these bytes, and the TLS state that moves with
    // the socket must not carry them again.
    std::string data = std::exchange(s_->plain, std::string());
    const TlsState* before = s_.get();
    inDispatch_ = true;
    const size_t used = handler_->onData(data);
    inDispatch_ = false;
    retired_.reset();
    if (s_.get() != before) return;  // moved: the request went with it
    if (used < data.size()) s_->plain.insert(0, data, used, std::string::npos);
    if (s_->plain.size() > kMaxUnconsumed) {
      if (auto tcp = tcp_.lock()) fail(*tcp, "request too large");
    }
  }

  void encrypt(TcpConnection& tcp, std::string_view plain) {
    ERR_clear_error();
    if (SSL_write(s_->ssl, plain.data(), static_cast<int>(plain.size())) <= 0) {
      fail(tcp, openSslError("TLS write failed"));
      return;
    }
    pushCipher(tcp);
  }

  // Hands what OpenSSL wrote (records) to the TCP connection.
  void pushCipher(TcpConnection& tcp) {
    BIO* out = SSL_get_wbio(s_->ssl);
    const size_t pending = BIO_ctrl_pending(out);
    if (pending == 0) return;
    std::string bytes(pending, '\0');
    const int n = BIO_read(out, bytes.data(), static_cast<int>(pending));
    if (n <= 0) return;
    bytes.resize(static_cast<size_t>(n));
    tcp.send(std::move(bytes));
  }

  void sayGoodbye(TcpConnection& tcp) {
    if (!s_->ssl || !s_->handshaken) return;
    ERR_clear_error();
    SSL_shutdown(s_->ssl);  // queues close_notify
    pushCipher(tcp);
  }

  void fail(TcpConnection& tcp, const std::string& why) {
    spdlog::debug("tls: {} ({})", why, tcp.remoteAddress());
    closing_ = true;
    tcp.close(false);
  }

  Loop& loop_;
  std::weak_ptr<TcpConnection> tcp_;  // it owns us (through the filter)
  std::unique_ptr<TlsState> s_;
  std::unique_ptr<ConnectionHandler> handler_;
  std::unique_ptr<ConnectionHandler> retired_;
  bool inDispatch_ = false;
  bool closing_ = false;
};

size_t TlsFilter::onData(std::string_view data) {
  auto keep = tls_;
  keep->onCipher(data);
  return data.size();
}

void TlsFilter::onClose(std::string_view reason) {
  auto tls = std::move(tls_);  // the last reference may go with this
  if (tls) tls->onClosed(reason);
}

void TlsFilter::onDrain() {
  if (tls_) tls_->onDrain();
}

}  // namespace

TlsContext::TlsContext(std::string certFile, std::string keyFile, std::shared_ptr<SSL_CTX> ctx)
    : certFile_(std::move(certFile)), keyFile_(std::move(keyFile)), ctx_(std::move(ctx)) {}

Result<std::shared_ptr<TlsContext>> TlsContext::load(std::string certFile, std::string keyFile) {
  auto ctx = makeContext(certFile, keyFile);
  if (!ctx) return ctx.error();
  return std::shared_ptr<TlsContext>(
      new TlsContext(std::move(certFile), std::move(keyFile), std::move(*ctx)));
}

Result<void> TlsContext::reload() {
  auto ctx = makeContext(certFile_, keyFile_);
  if (!ctx) return ctx.error();
  std::lock_guard lock(mutex_);
  ctx_ = std::move(*ctx);
  return {};
}

std::shared_ptr<SSL_CTX> TlsContext::current() const {
  std::lock_guard lock(mutex_);
  return ctx_;
}

TcpConnectionPtr wrapTls(const TcpConnectionPtr& tcp, const TlsContext& context) {
  auto ctx = context.current();
  SSL* ssl = SSL_new(ctx.get());  // holds its own reference to the context
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, in, out);
  SSL_set_accept_state(ssl);
  auto tls = std::make_shared<TlsConnection>(tcp, std::make_unique<TlsState>(ssl));
  tcp->setHandler(std::make_unique<TlsFilter>(tls));
  return tls;
}

}  // namespace brigade::net
