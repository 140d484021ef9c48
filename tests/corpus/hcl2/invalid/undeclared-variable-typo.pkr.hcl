# expect: did you mean `var.vm_size`?
variable "vm_size" {
  default = "Standard_DS2_v2"
}

source "null" "one" {
  communicator = "none"
}

build {
  sources = ["source.null.one"]
  provisioner "shell-local" {
    inline = ["echo ${var.vm_sise}"]
  }
}
