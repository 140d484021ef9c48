# webserver.json written in HCL2: the same Windows Server 2016 image with IIS, sysprepped and
# captured as an Azure managed image. Started from `packer hcl2_upgrade webserver.json`
# (Packer 1.6.6) and tidied by hand. Both files give the same build, so either one replays
# the cassettes in cassettes/webserver/.
#
#   pytest --image-template examples/webserver.pkr.hcl

packer {
  required_plugins {
    azure = {
      source  = "github.com/hashicorp/azure"
      version = ">= 1.0.0"
    }
  }
}

variable "client_id" {
  type      = string
  default   = env("ARM_CLIENT_ID")
  sensitive = true
}

variable "client_secret" {
  type      = string
  default   = env("ARM_CLIENT_SECRET")
  sensitive = true
}

variable "tenant_id" {
  type      = string
  default   = env("ARM_TENANT_ID")
  sensitive = true
}

variable "subscription_id" {
  type      = string
  default   = env("ARM_SUBSCRIPTION_ID")
  sensitive = true
}

variable "managed_image_resource_group_name" {
  type    = string
  default = "Packer-Poc-Mauri-RG"
}

variable "managed_image_name" {
  type    = string
  default = "win2016_iis"
}

variable "location" {
  type    = string
  default = "East US 2"
}

variable "vm_size" {
  type        = string
  default     = "Standard_DS2_v2"
  description = "Size of the temporary build VM."

  validation {
    condition     = can(regex("^Standard_", var.vm_size))
    error_message = "The vm_size must be an Azure size name such as Standard_DS2_v2."
  }
}

# The source is named like the JSON template's builder (its type), so the build is called
# "azure-arm" in both and they share cassettes.
source "azure-arm" "azure-arm" {
  client_id       = var.client_id
  client_secret   = var.client_secret
  tenant_id       = var.tenant_id
  subscription_id = var.subscription_id

  managed_image_resource_group_name = var.managed_image_resource_group_name
  managed_image_name                = var.managed_image_name

  os_type         = "Windows"
  image_publisher = "MicrosoftWindowsServer"
  image_offer     = "WindowsServer"
  image_sku       = "2016-Datacenter"

  communicator   = "winrm"
  winrm_use_ssl  = true
  winrm_insecure = true
  winrm_timeout  = "3m"
  winrm_username = "packer"

  azure_tags = {
    dept = "Engineering"
    task = "Image deployment"
  }

  location = var.location
  vm_size  = var.vm_size
}

build {
  description = "Windows Server 2016 Datacenter with IIS, generalized with sysprep and captured as an Azure managed image."

  sources = ["source.azure-arm.azure-arm"]

  provisioner "powershell" {
    scripts = ["${path.root}/scripts/install-iis.ps1"]
  }

  provisioner "powershell" {
    timeout = "30m"
    inline = [
      "while ((Get-Service RdAgent).Status -ne 'Running') { Start-Sleep -s 5 }",
      "while ((Get-Service WindowsAzureGuestAgent).Status -ne 'Running') { Start-Sleep -s 5 }",
      "if (Test-Path $Env:SystemRoot\\windows\\system32\\Sysprep\\unattend.xml) { Remove-Item $Env:SystemRoot\\windows\\system32\\Sysprep\\unattend.xml -Force }",
      "& $Env:SystemRoot\\System32\\Sysprep\\Sysprep.exe /oobe /generalize /quiet /quit /mode:vm",
      "while ($true) { $imageState = (Get-ItemProperty HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Setup\\State).ImageState; Write-Output $imageState; if ($imageState -eq 'IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE') { break }; Start-Sleep -s 10 }",
    ]
  }

  post-processor "manifest" {
    output     = "manifest.json"
    strip_path = true
  }
}
