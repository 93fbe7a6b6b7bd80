; Inno Setup script for the PixArt Studio installer (Windows). Build the bundle first with
; `python packaging\build.py`, then: iscc /DAppVersion=0.1.0 packaging\windows\pixart-studio.iss
#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif

[Setup]
AppId={{6A3F0C52-5B5E-4F0E-9D55-9C2B7A1E4D21}
AppName=PixArt Studio
AppVersion={#AppVersion}
AppPublisher=PixArt Studio
DefaultDirName={autopf}\PixArt Studio
DefaultGroupName=PixArt Studio
DisableProgramGroupPage=yes
OutputDir=..\..\dist
OutputBaseFilename=PixArtStudio-{#AppVersion}-setup
SetupIconFile=..\..\resources\icons\pixart-studio.ico
UninstallDisplayIcon={app}\pixart-studio.exe
Compression=lzma2/ultra64
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
PrivilegesRequiredOverridesAllowed=dialog

[Files]
Source: "..\..\dist\pixart-studio\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\PixArt Studio"; Filename: "{app}\pixart-studio.exe"
Name: "{group}\Uninstall PixArt Studio"; Filename: "{uninstallexe}"
Name: "{autodesktop}\PixArt Studio"; Filename: "{app}\pixart-studio.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "Create a desktop shortcut"; Flags: unchecked

[Run]
Filename: "{app}\pixart-studio.exe"; Description: "Launch PixArt Studio"; Flags: nowait postinstall skipifsilent
