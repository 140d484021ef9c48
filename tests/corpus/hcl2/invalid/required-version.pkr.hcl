# expect: This configuration requires Packer ">= 2.0.0"
packer {
  required_version = ">= 2.0.0"
}

source "null" "one" {
  communicator = "none"
}

build {
  sources = ["source.null.one"]
}
