// A minimal HTTP/1.1 GET over a loopback socket, for tests that read the admin listener and a
// real Prometheus (no HTTP client library in the Debian set the project uses).
#ifndef MARKETSEARCH_COMMON_HTTP_CLIENT_H_
#define MARKETSEARCH_COMMON_HTTP_CLIENT_H_

#include <string>

namespace marketsearch {

// GET http://127.0.0.1:<port><path_and_query>; returns the body, sets *status (-1 when the
// connection failed).
std::string HttpGet(int port, const std::string& path_and_query, int* status);

// A loopback port that was free a moment ago (bound to port 0 and released), for a child
// process that takes its port on the command line.
int FreeLoopbackPort();

// Percent-encodes a query-string value.
std::string UrlEncode(const std::string& s);

}  // namespace marketsearch

#endif  // MARKETSEARCH_COMMON_HTTP_CLIENT_H_
