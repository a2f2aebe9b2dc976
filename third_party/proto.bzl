"""cc_grpc_proto: compiles .proto files into C++ message (and optionally gRPC service)
libraries with Debian's packaged protoc and grpc_cpp_plugin. No rule repository needed."""

def cc_grpc_proto(name, srcs, deps = [], grpc = False, visibility = None):
    """Creates cc_library `name` from `srcs` (files in this package).

    Args:
      name: the cc_library's name.
      srcs: .proto files in this package; imports are written from the workspace root
        (e.g. `import "proto/catalog.proto";`).
      deps: other cc_grpc_proto targets whose protos these import.
      grpc: also generate gRPC service stubs (*.grpc.pb.{h,cc}).
      visibility: of the cc_library.
    """
    pkg = native.package_name()
    hdrs = []
    cc_srcs = []
    for s in srcs:
        base = s[:-len(".proto")]
        hdrs.append(base + ".pb.h")
        cc_srcs.append(base + ".pb.cc")
        if grpc:
            hdrs.append(base + ".grpc.pb.h")
            cc_srcs.append(base + ".grpc.pb.cc")

    dep_protos = [d + "_protos" for d in deps]
    native.filegroup(name = name + "_protos", srcs = srcs + dep_protos, visibility = visibility)

    cmd = "/usr/bin/protoc -I. --cpp_out=$(GENDIR) "
    if grpc:
        cmd += "--grpc_out=$(GENDIR) --plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin "
    cmd += " ".join([pkg + "/" + s for s in srcs])

    native.genrule(
        name = name + "_codegen",
        srcs = srcs + dep_protos,
        outs = hdrs + cc_srcs,
        cmd = cmd,
    )
    native.cc_library(
        name = name,
        srcs = cc_srcs,
        hdrs = hdrs,
        deps = deps + ["//third_party:protobuf"] + (["//third_party:grpc"] if grpc else []),
        visibility = visibility,
    )
