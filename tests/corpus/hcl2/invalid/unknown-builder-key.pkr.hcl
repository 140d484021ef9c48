# expect: unknown configuration key: 'vm_szie' (did you mean 'vm_size'?)
source "azure-arm" "web" {
  client_id                         = "x"
  client_secret                     = "y"
  subscription_id                   = "z"
  os_type                           = "Linux"
  image_publisher                   = "Canonical"
  image_offer                       = "UbuntuServer"
  image_sku                         = "18.04-LTS"
  location                          = "westeurope"
  managed_image_name                = "img"
  managed_image_resource_group_name = "rg"
  vm_szie                           = "Standard_B1s"
}

build {
  sources = ["source.azure-arm.web"]
}
