# Installs IIS with its management tools and a page the smoke test can fetch.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

Install-WindowsFeature -Name Web-Server -IncludeManagementTools
Set-Service -Name W3SVC -StartupType Automatic
Set-Content -Path 'C:\inetpub\wwwroot\index.html' -Value '<h1>Built by pytest-imagebuild</h1>'
Write-Output "IIS installed: $((Get-WindowsFeature Web-Server).InstallState)"
