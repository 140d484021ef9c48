# Install IIS with the management console and ASP.NET 4.x.
$ErrorActionPreference = 'Stop'
Install-WindowsFeature -Name Web-Server, Web-Mgmt-Console, Web-Asp-Net45 -IncludeManagementTools
Set-Content -Path 'C:\inetpub\wwwroot\index.html' -Value '<h1>Built by Packer</h1>'
