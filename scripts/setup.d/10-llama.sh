#!/usr/bin/env bash
# What llama.cpp's build (crate llama-cpp-sys-2, used by link-local) needs from Debian:
# cmake to build llama.cpp itself, and libclang for bindgen to generate its Rust bindings.
# A C/C++ compiler (gcc/g++) is already on the machine. Quick no-op when all are present.
set -euo pipefail
missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
# bindgen loads libclang.so at build time; any packaged version will do.
if ! ls /usr/lib/llvm-*/lib/libclang.so >/dev/null 2>&1; then
  missing+=(libclang-dev)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
