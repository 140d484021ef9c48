"""The azure-arm builder: a managed image from a marketplace image, with the real Azure SDK."""
