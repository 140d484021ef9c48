@echo off
rem Turn off scheduled scans during image build.
powershell -NoProfile -Command "Set-MpPreference -DisableScheduledScan $true"
