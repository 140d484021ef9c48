# expect: Invalid value for variable "count_of" (from its default): number required
variable "count_of" {
  type    = number
  default = [1]
}

source "null" "one" {
  communicator = "none"
}

build {
  sources = ["source.null.one"]
}
