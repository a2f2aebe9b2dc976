// AdminServer: the server's one HTTP listener (GNU libmicrohttpd), bound to loopback by
// default, apart from the gRPC port. Today it serves
//   GET /metrics   the Prometheus text exposition of ServerMetrics
//   GET /healthz   "SERVING" (200) or "NOT_SERVING" (503), as the gRPC health service says
// and other handlers (the experiment dashboard) are added with Handle().
//
// Why libmicrohttpd and not civetweb (or prometheus-cpp's Exposer, built on civetweb): Debian's
// civetweb starts its threads with a fixed 100 KiB stack, and in this process the static TLS
// of OpenBLAS (60 KiB) and libtorch (31 KiB) leaves that too small: pthread_create fails
// ("Cannot create threads") in the server, while the same listener works in a small binary.
// libmicrohttpd's thread takes the default stack.
//
// Thread safety: handlers run on libmicrohttpd's one polling thread, one request at a time
// (the listener is for operators and scrapers, not buyers). Handle() must be called before
// Start().
#ifndef MARKETSEARCH_SERVING_ADMIN_SERVER_H_
#define MARKETSEARCH_SERVING_ADMIN_SERVER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

struct MHD_Daemon;
struct MHD_Connection;

namespace marketsearch {

class AdminServer {
 public:
  struct Response {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
  };
  // Called with the request's path (without the query string) and query string.
  using Handler = std::function<Response(const std::string& path, const std::string& query)>;

  AdminServer() = default;
  ~AdminServer();  // stops the listener
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Serves `handler` for `path` and everything under it ("/metrics", "/dashboard").
  void Handle(const std::string& path, Handler handler);

  // Binds `address` ("127.0.0.1:8501"; port 0 = a free one) and starts serving.
  // Unavailable naming the address when it cannot bind.
  absl::Status Start(const std::string& address);
  // The bound port (after Start).
  int port() const { return port_; }
  // Stops the listener and waits for the requests in progress (idempotent; the destructor
  // calls it): after it no handler runs, so what the handlers read may be destroyed.
  void Stop();

  // libmicrohttpd's request callback calls this (public only for that C callback): answers one
  // request; returns 0 when the response could not be queued.
  static int RespondFromCallback(void* self, MHD_Connection* connection, const char* url,
                                const char* method);

 private:
  // The handler for `path`: the longest registered prefix that ends at a '/' or the end.
  const Handler* Find(const std::string& path) const;
  std::map<std::string, Handler> handlers_;
  MHD_Daemon* daemon_ = nullptr;
  int port_ = 0;
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_SERVING_ADMIN_SERVER_H_
