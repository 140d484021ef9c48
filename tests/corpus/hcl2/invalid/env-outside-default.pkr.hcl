# expect: env() may only be used in a variable's default
source "null" "one" {
  communicator = "none"
  ssh_host     = env("HOME")
}

build {
  sources = ["source.null.one"]
}
