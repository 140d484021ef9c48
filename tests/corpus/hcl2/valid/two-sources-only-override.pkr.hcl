# Two sources in one build; only/except and override pick the build, as in Packer.
source "null" "first" {
  communicator = "none"
}

source "null" "second" {
  communicator = "none"
}

build {
  sources = ["source.null.first", "source.null.second"]

  provisioner "shell-local" {
    only   = ["null.first"]
    inline = ["echo only first"]
  }

  provisioner "shell-local" {
    inline = ["echo default"]
    override = {
      second = {
        inline = ["echo overridden for second"]
      }
    }
    pause_before = "1s"
    max_retries  = 2
    timeout      = "5m"
  }

  post-processors {
    post-processor "checksum" {
      checksum_types = ["sha256"]
      output         = "${source.name}.checksum"
    }
    post-processor "manifest" {
      except = ["null.first"]
      output = "manifest.json"
    }
  }
}
