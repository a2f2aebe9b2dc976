#include "common/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <string>

namespace marketsearch {

std::string HttpGet(int port, const std::string& path_and_query, int* status) {
  *status = -1;
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return "";
  }
  const std::string req =
      "GET " + path_and_query + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    close(fd);
    return "";
  }
  std::string out;
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  const size_t sp = out.find(' ');
  if (sp == std::string::npos || out.size() < sp + 4) return "";
  *status = std::atoi(out.substr(sp + 1, 3).c_str());
  const size_t body = out.find("\r\n\r\n");
  std::string b = body == std::string::npos ? "" : out.substr(body + 4);
  // Prometheus answers with chunked encoding: join the chunks.
  if (out.substr(0, body).find("Transfer-Encoding: chunked") != std::string::npos) {
    std::string joined;
    size_t p = 0;
    while (p < b.size()) {
      const size_t eol = b.find("\r\n", p);
      if (eol == std::string::npos) break;
      const size_t len = std::stoul(b.substr(p, eol - p), nullptr, 16);
      if (len == 0) break;
      joined += b.substr(eol + 2, len);
      p = eol + 2 + len + 2;
    }
    b = joined;
  }
  return b;
}

int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = 0;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

std::string UrlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char b[4];
      std::snprintf(b, sizeof(b), "%%%02X", c);
      out += b;
    }
  }
  return out;
}

}  // namespace marketsearch
