# Most of the language in one null build: locals, for expressions, splats, conditionals,
# heredocs with directives, dynamic blocks are not needed by null, functions.
packer {
  required_version = ">= 1.7.0"
}

variable "regions" {
  type    = list(string)
  default = ["westeurope", "eastus"]
}

variable "size" {
  type    = number
  default = 2
}

variable "tags" {
  type = map(string)
  default = {
    team = "web"
  }
}

locals {
  upper_regions = [for r in var.regions : upper(r)]
  first         = element(var.regions, 0)
  joined        = join(",", local.upper_regions)
  big           = var.size > 1 ? "big" : "small"
  pairs         = { for k, v in var.tags : k => "${k}=${v}" }
  stamp         = formatdate("YYYY", timestamp())
  net           = cidrsubnet("10.0.0.0/16", 8, var.size)
}

local "secret" {
  expression = sha256("not really secret")
  sensitive  = true
}

source "null" "one" {
  communicator = "none"
}

build {
  name    = "tour"
  sources = ["source.null.one"]

  provisioner "shell-local" {
    inline = [
      "echo ${local.joined} ${local.big} ${local.net}",
      "echo ${source.name} ${source.type} ${build.name}",
      "echo ${jsonencode(local.pairs)}",
    ]
  }

  provisioner "shell-local" {
    inline = [<<-EOT
      %{ for r in var.regions ~}
      echo ${r}
      %{ endfor ~}
      EOT
    ]
  }
}
