"""Offline stand-in for @rules_proto (unused: protos are compiled by //third_party:proto.bzl)."""

def proto_library(**kwargs):
    native.proto_library(**kwargs)
