# expect: data sources (data.amazon-ami.base) are not supported
data "amazon-ami" "base" {
  region = "us-east-1"
}

source "null" "one" {
  communicator = "none"
}

build {
  sources = ["source.null.one"]
}
