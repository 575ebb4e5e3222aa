// grpc.testing.TestService on C++ gRPC (Debian's libgrpc++), the bench's C++ anchor.
// UnaryCall answers as the interop servers do (ours, grpcio): a payload of
// response_size zero bytes. Same flags as `gossipfl-interop server`; prints
// "listening on HOST:PORT" once serving. Built by bench/grpc_bench.py.
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "grpc_testing/test.grpc.pb.h"

namespace {

class TestServiceImpl final : public grpc::testing::TestService::Service {
  grpc::Status EmptyCall(grpc::ServerContext*, const grpc::testing::Empty*, grpc::testing::Empty*) override {
    return grpc::Status::OK;
  }

  grpc::Status UnaryCall(grpc::ServerContext*, const grpc::testing::SimpleRequest* request,
                         grpc::testing::SimpleResponse* response) override {
    if (request->has_response_status() && request->response_status().code() != 0) {
      return grpc::Status(static_cast<grpc::StatusCode>(request->response_status().code()),
                          request->response_status().message());
    }
    if (request->response_size() > 0) {
      auto* payload = response->mutable_payload();
      payload->set_type(request->response_type());
      payload->set_body(std::string(static_cast<size_t>(request->response_size()), '\0'));
    }
    return grpc::Status::OK;
  }
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    std::exit(2);
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1", cert, key;
  int port = 0, max_receive = 4 << 20;
  bool tls = false;
  for (int i = 1; i < argc; i++) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--host") host = value();
    else if (arg == "--port") port = std::atoi(value().c_str());
    else if (arg == "--max_receive_message_size") max_receive = std::atoi(value().c_str());
    else if (arg == "--use_tls") tls = true;
    else if (arg == "--tls_cert_file") cert = value();
    else if (arg == "--tls_key_file") key = value();
    else {
      std::fprintf(stderr, "unknown flag %s\n", arg.c_str());
      return 2;
    }
  }
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (tls) {
    grpc::SslServerCredentialsOptions options;
    options.pem_key_cert_pairs.push_back({ReadFile(key), ReadFile(cert)});
    credentials = grpc::SslServerCredentials(options);
  }
  TestServiceImpl service;
  grpc::ServerBuilder builder;
  int selected = 0;
  builder.AddListeningPort(host + ":" + std::to_string(port), credentials, &selected);
  builder.SetMaxReceiveMessageSize(max_receive);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || selected == 0) {
    std::fprintf(stderr, "cannot listen on %s:%d\n", host.c_str(), port);
    return 1;
  }
  std::printf("listening on %s:%d\n", host.c_str(), selected);
  std::fflush(stdout);
  server->Wait();
  return 0;
}
