#include "server/cert_command.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

namespace brigade::server {
namespace {

// How long the certificate is valid: 825 days, the most Apple's devices accept.
constexpr long kValidDays = 825;

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;

std::string lastError() {
  const unsigned long code = ERR_get_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

bool isIpAddress(const std::string& host) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

bool plausibleHost(const std::string& host) {
  if (host.empty() || host.size() > 253) return false;
  if (isIpAddress(host)) return true;
  for (char c : host) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') return false;
  }
  return host.front() != '-' && host.front() != '.';
}

bool addExtension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A self-signed certificate for `host` (its SAN), signed by a new P-256 key.
Cert makeCertificate(const std::string& host, EVP_PKEY* key) {
  Cert cert(X509_new());
  if (!cert) return nullptr;
  X509_set_version(cert.get(), 2);  // v3
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);  // clocks that run a little behind
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), kValidDays * 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(host.c_str()), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Brigade (self-signed)"), -1,
                             -1, 0);
  X509_set_issuer_name(cert.get(), name);
  const std::string san = (isIpAddress(host) ? "IP:" : "DNS:") + host;
  // Its own authority, so that a phone can be told to trust it (Android installs only CAs).
  if (!addExtension(cert.get(), NID_subject_alt_name, san) ||
      !addExtension(cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
      !addExtension(cert.get(), NID_key_usage, "critical,digitalSignature,keyCertSign") ||
      !addExtension(cert.get(), NID_ext_key_usage, "serverAuth") ||
      !addExtension(cert.get(), NID_subject_key_identifier, "hash")) {
    return nullptr;
  }
  if (X509_sign(cert.get(), key, EVP_sha256()) <= 0) return nullptr;
  return cert;
}

bool writePem(const std::filesystem::path& path, mode_t mode,
              const std::function<bool(FILE*)>& fn) {
  const mode_t old = umask(0077);
  FILE* f = std::fopen(path.c_str(), "wx");  // never over an existing file
  umask(old);
  if (!f) return false;
  const bool ok = fn(f);
  const bool closed = std::fclose(f) == 0;
  chmod(path.c_str(), mode);
  return ok && closed;
}

}  // namespace

int runCertCommand(int argc, char** argv) {
  CLI::App cli{"Certificates for HTTPS", "cert"};
  cli.require_subcommand(1);
  std::string host;
  std::string out;
  bool force = false;
  auto* selfSigned = cli.add_subcommand(
      "self-signed", "a self-signed certificate and key for a box on a local network");
  selfSigned->add_option("--host", host, "the name (or address) the panels are opened at")
      ->required();
  selfSigned->add_option("--out", out, "the folder to write cert.pem and key.pem into")->required();
  selfSigned->add_flag("--force", force, "replace cert.pem and key.pem if they exist");
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return cli.exit(e);
    std::cerr << "brigade: " << e.what() << " (brigade cert --help)\n";
    return 1;
  }
  if (!plausibleHost(host)) {
    std::cerr << "brigade cert: --host: a host name (letters, digits, '.', '-') or an IP address\n";
    return 1;
  }
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(out, ec);
  const fs::path certPath = fs::path(out) / "cert.pem";
  const fs::path keyPath = fs::path(out) / "key.pem";
  for (const auto& p : {certPath, keyPath}) {
    if (!fs::exists(p)) continue;
    if (!force) {
      std::cerr << "brigade cert: " << p.string() << " exists (--force replaces it)\n";
      return 2;
    }
    fs::remove(p, ec);
  }
  Key key(EVP_EC_gen("P-256"));
  Cert cert = key ? makeCertificate(host, key.get()) : nullptr;
  if (!key || !cert) {
    std::cerr << "brigade cert: cannot make the certificate: " << lastError() << "\n";
    return 2;
  }
  const bool keyWritten = writePem(keyPath, 0600, [&](FILE* f) {
    return PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
  });
  const bool certWritten = keyWritten && writePem(certPath, 0644, [&](FILE* f) {
                             return PEM_write_X509(f, cert.get()) == 1;
                           });
  if (!keyWritten || !certWritten) {
    std::cerr << "brigade cert: cannot write into " << out << "\n";
    fs::remove(keyPath, ec);
    fs::remove(certPath, ec);
    return 2;
  }
  boost::json::object line{{"cert", certPath.string()},
                           {"key", keyPath.string()},
                           {"host", host},
                           {"valid_days", kValidDays}};
  std::cout << boost::json::serialize(boost::json::object{{"certificate", line}}) << std::endl;
  std::cerr << "brigade cert: start with --tls-cert " << certPath.string() << " --tls-key "
            << keyPath.string() << ", open https://" << host
            << ":PORT/ and trust cert.pem on each device (docs/OPERATIONS.md, \"HTTPS\")\n";
  return 0;
}

}  // namespace brigade::server
