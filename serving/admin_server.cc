#include "serving/admin_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace marketsearch {
namespace {

// Collects the query string back into "k=v&k=v" (libmicrohttpd hands over parsed arguments).
MHD_Result AppendArgument(void* out, MHD_ValueKind, const char* key, const char* value) {
  auto* q = static_cast<std::string*>(out);
  if (!q->empty()) q->push_back('&');
  absl::StrAppend(q, key, value != nullptr ? "=" : "", value != nullptr ? value : "");
  return MHD_YES;
}

MHD_Result Answer(void* self, MHD_Connection* connection, const char* url, const char* method,
                  const char*, const char*, size_t*, void**) {
  return AdminServer::RespondFromCallback(self, connection, url, method) == 0 ? MHD_NO : MHD_YES;
}

}  // namespace

AdminServer::~AdminServer() { Stop(); }

void AdminServer::Stop() {
  if (daemon_ != nullptr) MHD_stop_daemon(daemon_);
  daemon_ = nullptr;
}

void AdminServer::Handle(const std::string& path, Handler handler) {
  handlers_[path] = std::move(handler);
}

const AdminServer::Handler* AdminServer::Find(const std::string& path) const {
  const Handler* best = nullptr;
  size_t best_len = 0;
  for (const auto& [prefix, handler] : handlers_) {
    if (path.compare(0, prefix.size(), prefix) != 0) continue;
    if (path.size() > prefix.size() && path[prefix.size()] != '/' && prefix.back() != '/') continue;
    if (prefix.size() >= best_len) {
      best = &handler;
      best_len = prefix.size();
    }
  }
  return best;
}

int AdminServer::RespondFromCallback(void* self, MHD_Connection* connection, const char* url,
                                    const char* method) {
  const auto* server = static_cast<const AdminServer*>(self);
  Response r;
  const std::string path = url != nullptr ? url : "";
  if (std::string(method) != "GET" && std::string(method) != "HEAD") {
    r = {405, "text/plain; charset=utf-8", "only GET\n"};
  } else if (const Handler* h = server->Find(path)) {
    std::string query;
    MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, &AppendArgument, &query);
    r = (*h)(path, query);
  } else {
    r = {404, "text/plain; charset=utf-8", "not found\n"};
  }
  MHD_Response* response = MHD_create_response_from_buffer(r.body.size(), r.body.data(),
                                                            MHD_RESPMEM_MUST_COPY);
  if (response == nullptr) return 0;
  MHD_add_response_header(response, "Content-Type", r.content_type.c_str());
  const MHD_Result queued = MHD_queue_response(connection, static_cast<unsigned>(r.status), response);
  MHD_destroy_response(response);
  return queued == MHD_YES ? 1 : 0;
}

absl::Status AdminServer::Start(const std::string& address) {
  const std::vector<std::string> parts = absl::StrSplit(address, absl::MaxSplits(':', 1));
  int port = -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[1], &port) || port < 0 || port > 65535 ||
      inet_pton(AF_INET, parts[0].c_str(), &addr.sin_addr) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("admin listener: '", address, "' is not an IPv4 address:port"));
  }
  addr.sin_port = htons(static_cast<uint16_t>(port));
  daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, nullptr, nullptr,
                             &Answer, this, MHD_OPTION_SOCK_ADDR, reinterpret_cast<sockaddr*>(&addr),
                             MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_CONNECTION_LIMIT, 64u,
                             MHD_OPTION_END);
  if (daemon_ == nullptr) {
    return absl::UnavailableError(absl::StrCat("admin listener: cannot listen on ", address));
  }
  const MHD_DaemonInfo* info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
  port_ = info != nullptr ? info->port : port;
  return absl::OkStatus();
}

}  // namespace marketsearch
