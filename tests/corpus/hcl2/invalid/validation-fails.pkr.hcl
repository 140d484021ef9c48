# expect: The size must be at least 1.
variable "size" {
  type    = number
  default = 0
  validation {
    condition     = var.size >= 1
    error_message = "The size must be at least 1."
  }
}

source "null" "one" {
  communicator = "none"
}

build {
  sources = ["source.null.one"]
}
