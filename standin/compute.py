"""Microsoft.Compute: virtual machines, their actions, managed images and disks.

Modelled on sdk-compute-17.0.0 test_compute_vm (VM PUT 201 `Creating` + Azure-AsyncOperation,
status bodies `{startTime, status, name}`, POST actions 202 with Azure-AsyncOperation and
`Location ...?monitor=true`, runCommand output in `properties.output.value[]`, generalize 200),
cli test_vm_capture_zone_resilient_image (deallocate, generalize, image PUT 201 `Creating`, GET
`osState: Generalized`) and sdk-compute-23.0.0 disks (DiskOperations URLs). Azure's rules: the
password complexity check, generalize only when stopped or deallocated, images only from
generalized VMs, no start of a generalized VM, no delete of an attached disk, and a VM from an
image that was never sysprepped fails with OSProvisioningTimedOut.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from . import linux_vms, native, refusals
from .arm import Request, Response, check_location
from .errors import ArmError, invalid_parameter, not_allowed, resource_not_found
from .gallery import GALLERY, Galleries
from .powershell import Cancelled, Session
from .state import PROVIDER_TYPES, Resource
from .subscription_faults import sku_not_available_error
from .windows import Disk, WindowsMachine

if TYPE_CHECKING:
    from standin.arm import Arm

VM = "Microsoft.Compute/virtualMachines"
IMAGE = "Microsoft.Compute/images"
DISK = "Microsoft.Compute/disks"

DISALLOWED_USERS = {
    "administrator",
    "admin",
    "user",
    "user1",
    "test",
    "user2",
    "test1",
    "user3",
    "admin1",
    "1",
    "123",
    "a",
    "actuser",
    "adm",
    "admin2",
    "aspnet",
    "backup",
    "console",
    "david",
    "guest",
    "john",
    "owner",
    "root",
    "server",
    "sql",
    "support",
    "support_388945a0",
    "sys",
    "test2",
    "test3",
    "user4",
    "user5",
}
DISALLOWED_PASSWORDS = {
    "abc@123",
    "iloveyou!",
    "p@$$w0rd",
    "p@ssw0rd",
    "p@ssword123",
    "pa$$word",
    "pass@word1",
    "password!",
    "password1",
    "password22",
}
WINDOWS_SKUS = re.compile(r"^(2016|2019|2022|2025)-datacenter", re.IGNORECASE)
LINUX_PUBLISHERS = {"canonical", "debian", "redhat", "openlogic", "suse", "almalinux"}
RUNCOMMAND_OUTPUT_LIMIT = 4096


@dataclass
class VmRuntime:
    os_type: str
    computer_name: str
    admin_user: str
    admin_password: str = field(repr=False)
    power: str = "starting"
    generalized: bool = False
    machine: WindowsMachine | None = None
    guest: Any = None  # a LinuxGuest (real QEMU) for Linux VMs
    vm_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).isoformat())
    command_running: bool = False
    image_ref: dict[str, Any] = field(default_factory=dict)
    exact_version: str = ""


def _time() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f0+00:00")


class Compute:
    TYPES: ClassVar[frozenset[str]] = frozenset(
        k for k in PROVIDER_TYPES if k.startswith("microsoft.compute/")
    )

    def __init__(self, arm: Arm) -> None:
        self.arm = arm
        self.s = arm.s
        self.store = arm.s.store
        self.galleries = Galleries(self)

    # -- dispatch ------------------------------------------------------------------------------
    def handle(self, req: Request, group: str, rtype: str, name: str, rest: list[str]) -> Response:
        rtype = PROVIDER_TYPES[rtype.lower()]
        if rtype == GALLERY:
            return self.galleries.handle(req, group, name, rest)
        rid = self.store.rid(group, rtype, name)
        res = self.store.get(rid)
        if rest:
            if rtype != VM or len(rest) != 1:
                raise self.no_route(req)
            if res is None:
                raise resource_not_found(rtype, name, group)
            return self.vm_action(req, res, rest[0])
        if req.method == "GET":
            if res is None:
                raise resource_not_found(rtype, name, group)
            expand = req.query.get("$expand", "").lower() == "instanceview"
            return Response(200, self.render(res, expand), self.limits(rtype, "GET"))
        if req.method == "PUT":
            if rtype == VM:
                return self.put_vm(req, group, name, res)
            if rtype == IMAGE:
                return self.put_image(req, group, name, res)
            raise ArmError(
                501,
                "StandinNotModelled",
                "The loopback Azure stand-in does not create disks directly; they "
                "come with virtual machines.",
            )
        if req.method == "PATCH" and rtype == VM:
            if res is None:
                raise resource_not_found(rtype, name, group)
            body = req.json()
            return self.update_vm(req, res, body, copy.deepcopy(body.get("properties") or {}))
        if req.method == "DELETE":
            if res is None:
                return Response(204)
            return self.delete(req, res)
        raise ArmError(405, "MethodNotAllowed", f"The method '{req.method}' is not allowed.")

    def list(self, req: Request, group: str | None, rtype: str) -> Response:
        rtype = PROVIDER_TYPES[rtype.lower()]
        render = self.galleries.render if rtype == GALLERY else self.render
        return Response(200, {"value": [render(r) for r in self.store.of_type(rtype, group)]})

    def no_route(self, req: Request) -> ArmError:
        return ArmError(
            404,
            "NotFound",
            "No HTTP resource was found that matches the request "
            f"URI '{self.arm.base}{req.path}?api-version={req.api_version}'.",
        )

    def limits(self, rtype: str, method: str, action: str | None = None) -> dict[str, str]:
        group = {
            (VM, "PUT"): "PutVM",
            (VM, "GET"): "LowCostGet",
            (VM, "DELETE"): "DeleteVM",
            (VM, "POST"): "DeleteVM" if action == "deallocate" else "UpdateVM",
            (IMAGE, "PUT"): "CreateImages",
            (IMAGE, "GET"): "GetImages",
            (IMAGE, "DELETE"): "DeleteImages",
            (DISK, "GET"): "LowCostGet",
            (DISK, "DELETE"): "DeleteDisks",
        }.get((rtype, method), "HighCostGet")
        return {
            "x-ms-ratelimit-remaining-resource": f"Microsoft.Compute/{group}3Min;239,"
            f"Microsoft.Compute/{group}30Min;1199"
        }

    # -- virtual machines -------------------------------------------------------------------------
    def put_vm(self, req: Request, group: str, name: str, res: Resource | None) -> Response:
        body = req.json()
        props = copy.deepcopy(body.get("properties") or {})
        if res is not None:
            return self.update_vm(req, res, body, props)
        location = check_location(body.get("location"), VM)
        rid = self.store.rid(group, VM, name)
        refusals.check_compute_name(VM, name)
        refusals.check_hardware(props, location)
        if refusals.RETIRED_SIZE.match(props["hardwareProfile"]["vmSize"]):
            raise sku_not_available_error(rid, location, self.arm.sub)
        storage = props.setdefault("storageProfile", {})
        image_ref = storage.get("imageReference") or {}
        os_type, image, exact = self.resolve_image(image_ref, location)
        runtime = self.validate_os_profile(props, os_type, name)
        if runtime.admin_password:
            self.s.admin_passwords.append(runtime.admin_password)
        props["osProfile"].pop("adminPassword", None)  # Azure never returns it; keep it nowhere
        for nic in self.validate_nics(props, rid):
            refusals.check_same_region(nic.id, nic.location, rid, location)
        os_disk = storage.setdefault("osDisk", {})
        disk_name = os_disk.get("name") or f"{name}_OsDisk_1_{uuid.uuid4().hex}"
        disk_id = self.store.rid(group, DISK, disk_name)
        if self.store.get(disk_id) is not None:
            raise ArmError(
                409,
                "ConflictingUserInput",
                f"Disk {disk_name} already exists in resource group {group.upper()}. "
                "Only CreateOption.Attach is supported.",
                target="/disks/" + disk_name,
            )
        runtime.image_ref = dict(image_ref)
        runtime.exact_version = exact
        storage["osDisk"] = {
            "osType": os_type,
            "name": disk_name,
            "createOption": os_disk.get("createOption", "FromImage"),
            "caching": os_disk.get("caching", "ReadWrite"),
            "managedDisk": {
                "storageAccountType": (os_disk.get("managedDisk") or {}).get(
                    "storageAccountType", "Standard_LRS"
                ),
                "id": self.store.rid(group.upper(), DISK, disk_name),
            },
            "deleteOption": os_disk.get("deleteOption", "Detach"),
            "diskSizeGB": os_disk.get("diskSizeGB", 127 if os_type == "Windows" else 30),
        }
        storage.setdefault("dataDisks", [])
        res = Resource(
            rid,
            VM,
            self.store.group(group).name,
            name,
            location,  # type: ignore[union-attr]
            dict(body.get("tags") or {}),
            props,
            "Creating",
            runtime=runtime,
            show_tags="tags" in body,
        )
        self.store.put(res)
        disk = Resource(
            disk_id,
            DISK,
            res.group,
            disk_name,
            location,
            {},
            {
                "osType": os_type,
                "hyperVGeneration": "V1",
                "diskSizeGB": storage["osDisk"]["diskSizeGB"],
                "creationData": {
                    "createOption": "FromImage",
                    "imageReference": {
                        "id": image.id
                        if image
                        else self.platform_image_id(location, image_ref, exact)
                    },
                },
            },
            "Updating",
            sku={
                "name": storage["osDisk"]["managedDisk"]["storageAccountType"],
                "tier": "Standard",
            },
        )
        disk.runtime = {"managedBy": rid}
        self.store.put(disk)
        op = self.arm.start(
            "vm_create",
            "Microsoft.Compute",
            location,
            lambda: self.finish_create(res, disk, image),
            req,
        )
        headers = {
            **self.arm.lro_headers(op, req, location=False, notification=True),
            **self.limits(VM, "PUT"),
        }
        return Response(201, self.render(res), headers)

    def update_vm(
        self, req: Request, res: Resource, body: dict[str, Any], props: dict[str, Any]
    ) -> Response:
        rt: VmRuntime = res.runtime
        if rt.generalized:
            raise not_allowed(
                f"Operation 'Update VM' is not allowed on VM '{res.name}' since "
                "the VM is generalized."
            )
        new_ref = (props.get("storageProfile") or {}).get("imageReference")
        if new_ref and {k: v for k, v in new_ref.items() if k != "exactVersion"} != {
            k: v for k, v in rt.image_ref.items() if k != "exactVersion"
        }:
            raise ArmError(
                409,
                "PropertyChangeNotAllowed",
                "Changing property 'imageReference' is not allowed.",
                target="imageReference",
            )
        res.tags = dict(body.get("tags") or res.tags)
        if "hardwareProfile" in props:
            res.properties["hardwareProfile"] = props["hardwareProfile"]
        res.provisioning_state = "Updating"

        def complete() -> None:
            res.provisioning_state = "Succeeded"

        op = self.arm.start("vm_action", "Microsoft.Compute", res.location, complete, req)
        return Response(
            200,
            self.render(res),
            {
                **self.arm.lro_headers(op, req, location=False, notification=True),
                **self.limits(VM, "PUT"),
            },
        )

    def resolve_image(self, ref: dict[str, Any], location: str) -> tuple[str, Resource | None, str]:
        if ref.get("id") and "/galleries/" in ref["id"].lower():
            os_type, version = self.galleries.resolve(ref["id"], location)
            return os_type, version, ""
        if ref.get("id"):
            image = self.store.get(ref["id"])
            if image is None or image.rtype != IMAGE:
                raise invalid_parameter(
                    f"The Image '{ref['id']}' cannot be found in '{location}' region.",
                    "imageReference",
                )
            return image.properties["storageProfile"]["osDisk"]["osType"], image, ""
        publisher = (ref.get("publisher") or "").lower()
        urn = ":".join(str(ref.get(k, "")) for k in ("publisher", "offer", "sku", "version"))
        if (
            publisher == "microsoftwindowsserver"
            and (ref.get("offer") or "").lower() == "windowsserver"
            and WINDOWS_SKUS.match(ref.get("sku") or "")
        ):
            build = {
                "2016": "14393.7428",
                "2019": "17763.6532",
                "2022": "20348.3091",
                "2025": "26100.2605",
            }[(ref.get("sku") or "")[:4]]
            return (
                "Windows",
                None,
                f"{build}.241105"
                if ref.get("version", "latest") == "latest"
                else str(ref["version"]),
            )
        if publisher in LINUX_PUBLISHERS and ref.get("offer") and ref.get("sku"):
            return (
                "Linux",
                None,
                "20241101.0.0" if ref.get("version", "latest") == "latest" else str(ref["version"]),
            )
        raise ArmError(
            404,
            "PlatformImageNotFound",
            f"The platform image '{urn}' is not available. Verify that all fields in "
            "the storage profile are correct. For more details about storage profile "
            "information, please refer to https://aka.ms/storageprofile",
            target="imageReference",
        )

    def platform_image_id(self, location: str, ref: dict[str, Any], exact: str) -> str:
        return (
            f"/Subscriptions/{self.arm.sub}/Providers/Microsoft.Compute/Locations/{location}"
            f"/Publishers/{ref.get('publisher')}/ArtifactTypes/VMImage/Offers/"
            f"{ref.get('offer')}/Skus/{ref.get('sku')}/Versions/{exact}"
        )

    def validate_os_profile(self, props: dict[str, Any], os_type: str, name: str) -> VmRuntime:
        osp = props.get("osProfile")
        if not osp:
            raise invalid_parameter(
                "Required parameter 'osProfile' is missing (null).", "osProfile"
            )
        computer = osp.get("computerName")
        if not computer:
            raise invalid_parameter(
                "Required parameter 'computerName' is missing (null).", "computerName"
            )
        if os_type == "Windows" and (
            len(computer) > 15
            or computer.isdigit()
            or re.search(r"[`~!@#$%^&*()=+_\[\]{}\\|;:.'\",<>/?]", computer)
        ):
            raise invalid_parameter(
                "Windows computer name cannot be more than 15 characters long, be entirely "
                "numeric, or contain the following characters: ` ~ ! @ # $ % ^ & * ( ) = + _ [ ] "
                "{ } \\ | ; : . ' \" , < > / ?.",
                "computerName",
            )
        user = osp.get("adminUsername") or ""
        if not user:
            raise invalid_parameter(
                "Required parameter 'adminUsername' is missing (null).", "adminUsername"
            )
        if (
            user.lower() in DISALLOWED_USERS
            or user.endswith(".")
            or (os_type == "Windows" and len(user) > 20)
        ):
            raise invalid_parameter("The Admin Username specified is not allowed.", "adminUsername")
        password = osp.get("adminPassword") or ""
        linux = osp.get("linuxConfiguration") or {}
        if os_type == "Linux":
            for key in (linux.get("ssh") or {}).get("publicKeys") or []:
                if key.get("path") != f"/home/{user}/.ssh/authorized_keys":
                    raise invalid_parameter(
                        "Destination path for SSH public keys is currently limited to its "
                        f"default value /home/{user}/.ssh/authorized_keys  due to a known issue "
                        "in Linux provisioning agent.",
                        "linuxConfiguration.ssh.publicKeys.path",
                    )
            if not password and not linux.get("disablePasswordAuthentication"):
                raise invalid_parameter(
                    "Required parameter 'adminPassword' is missing (null).", "adminPassword"
                )
        if password or os_type == "Windows":
            self.check_password(password, os_type)
        return VmRuntime(os_type, computer, user, password)

    @staticmethod
    def check_password(password: str, os_type: str) -> None:
        lo, hi = (8, 123) if os_type == "Windows" else (6, 72)
        classes = sum(bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"\d", r"[\W_]"))
        if (
            not lo <= len(password) <= hi
            or classes < 3
            or re.search(r"[\x00-\x1f]", password)
            or password.lower() in DISALLOWED_PASSWORDS
        ):
            raise invalid_parameter(
                f"The supplied password must be between {lo}-{hi} characters long and must "
                "satisfy at least 3 of password complexity requirements from the following:\r\n"
                "1) Contains an uppercase character\r\n2) Contains a lowercase character\r\n"
                "3) Contains a numeric digit\r\n4) Contains a special character\r\n"
                "5) Control characters are not allowed",
                "adminPassword",
            )

    def validate_nics(self, props: dict[str, Any], vm_id: str) -> list[Resource]:
        refs = (props.get("networkProfile") or {}).get("networkInterfaces") or []
        if not refs:
            raise invalid_parameter(
                "Virtual Machine must have at least one network interface.",
                "networkProfile.networkInterfaces",
            )
        nics = []
        for ref in refs:
            nic = self.store.get(ref.get("id") or "")
            if nic is None:
                raise ArmError(400, "NotFound", f"Resource {ref.get('id')} not found.")
            owner = self.arm.network.nic_vm(nic.id)
            if owner and owner.lower() != vm_id.lower():
                raise ArmError(
                    400,
                    "NicInUse",
                    f"Network Interface {nic.id} is used by existing resource {owner}.",
                )
            nics.append(nic)
        return nics

    def finish_create(self, res: Resource, disk: Resource, image: Resource | None) -> None:
        if self.store.get(res.id) is not res:
            return
        rt: VmRuntime = res.runtime
        disk.provisioning_state = "Succeeded"
        if rt.os_type == "Windows":
            if image is not None:
                source: Disk = image.runtime
                rt.machine = WindowsMachine.from_disk(
                    self.s.settings,
                    self.s.certdir,
                    source,
                    rt.computer_name,
                    rt.admin_user,
                    rt.admin_password,
                )
            else:
                rt.machine = WindowsMachine.marketplace(
                    self.s.settings,
                    self.s.certdir,
                    str(rt.image_ref.get("sku", "")),
                    rt.computer_name,
                    rt.admin_user,
                    rt.admin_password,
                )
            rt.machine.on_change = self.s.sync_hosts
            rt.machine.on_guest_shutdown = lambda: self.guest_shutdown(res)
            self.configure_listeners(res, rt.machine)
        else:
            rt.guest = linux_vms.create_guest(self.s, res, image)
        rt.power = "running"
        if rt.guest is not None:
            linux_vms.boot(self.s, res)
        if rt.machine is not None:
            rt.machine.boot()
        self.s.sync_hosts()
        if image is not None and rt.os_type == "Windows" and not image.runtime.sysprepped:
            res.provisioning_state = "Failed"
            raise ArmError(
                200,
                "OSProvisioningTimedOut",
                f"OS Provisioning for VM '{res.name}' did not finish in the allotted "
                "time. The VM may still finish provisioning successfully. Please check "
                "provisioning state later. Also, make sure the image has been properly "
                "prepared (generalized).\r\n * Instructions for Windows: https://azure."
                "microsoft.com/documentation/articles/virtual-machines-windows-upload-"
                "image/ \r\n * Instructions for Linux: https://azure.microsoft.com/"
                "documentation/articles/virtual-machines-linux-capture-image/",
            )
        res.provisioning_state = "Succeeded"

    def configure_listeners(self, res: Resource, machine: WindowsMachine) -> None:
        """osProfile.windowsConfiguration.winRM listeners: an Https one is set up at provisioning
        (Azure takes its certificate from Key Vault, which the stand-in does not model)."""
        win = res.properties.get("osProfile", {}).get("windowsConfiguration") or {}
        for listener in (win.get("winRM") or {}).get("listeners") or []:
            if (listener.get("protocol") or "").lower() == "https":
                thumb = machine.new_certificate(res.runtime.computer_name)
                machine.add_https_listener(thumb)

    def guest_shutdown(self, res: Resource) -> None:
        with self.store.lock:
            if self.store.get(res.id) is res:
                res.runtime.power = "stopped"
                self.s.sync_hosts()

    def vm_action(self, req: Request, res: Resource, action: str) -> Response:
        rt: VmRuntime = res.runtime
        act = action.lower()
        if req.method == "GET" and act == "instanceview":
            return Response(200, self.instance_view(res), self.limits(VM, "GET"))
        if req.method != "POST":
            raise self.no_route(req)
        if act == "generalize":
            if rt.power not in ("stopped", "deallocated"):
                raise not_allowed(
                    f"Operation 'generalize' is not allowed on VM '{res.name}' since the VM is "
                    "running. Please power off explicitly in case you shut down the VM from inside "
                    "the guest operating system."
                )
            rt.generalized = True
            return Response(200, None, self.limits(VM, "POST"))
        if act == "runcommand":
            return self.run_command(req, res)
        transitions = {
            "poweroff": ("stopping", "stopped"),
            "start": ("starting", "running"),
            "deallocate": ("deallocating", "deallocated"),
            "restart": ("restarting", "running"),
            "redeploy": ("updating", rt.power),
            "reapply": (None, None),
        }
        if act not in transitions:
            raise self.no_route(req)
        if rt.generalized and act in ("start", "restart", "redeploy"):
            verb = {"poweroff": "powerOff"}.get(act, act)
            raise not_allowed(
                f"Operation '{verb}' is not allowed on VM '{res.name}' since the VM is generalized."
            )
        if act == "restart" and rt.power != "running":
            raise not_allowed(
                f"Operation 'restart' is not allowed on VM '{res.name}' since the VM is {rt.power}."
            )
        during, after = transitions[act]
        if during:
            rt.power = during
            self.s.sync_hosts()

        def complete() -> None:
            if self.store.get(res.id) is not res or after is None:
                return
            rt.power = after
            if after == "running" and rt.machine is not None:
                rt.machine.boot()
            if rt.guest is not None:
                linux_vms.follow_power(self.s, res)
            self.s.sync_hosts()

        op = self.arm.start("vm_action", "Microsoft.Compute", res.location, complete, req)
        return Response(
            202,
            None,
            {**self.arm.lro_headers(op, req, location=True), **self.limits(VM, "POST", act)},
        )

    def run_command(self, req: Request, res: Resource) -> Response:
        rt: VmRuntime = res.runtime
        body = req.json()
        command_id = body.get("commandId") or ""
        if rt.power != "running":
            raise not_allowed("The operation requires the VM to be running (or set to run).")
        if rt.command_running:
            raise ArmError(
                409,
                "Conflict",
                "Run command extension execution is in progress. "
                "Please wait for completion before invoking a run command.",
            )
        expected = "RunPowerShellScript" if rt.os_type == "Windows" else "RunShellScript"
        known = {expected, "ipconfig", "EnableRemotePS"} if rt.os_type == "Windows" else {expected}
        if command_id not in known:
            raise ArmError(
                404,
                "NotFound",
                "The entity was not found in this Azure location.",
                target="commandId",
            )
        script = "\n".join(body.get("script") or [])
        if command_id == "ipconfig":
            script = "ipconfig /all"
        elif command_id == "EnableRemotePS":
            script = ENABLE_REMOTE_PS
        result: dict[str, Any] = {}
        rt.command_running = True
        thread = threading.Thread(
            target=self._run_script, args=(rt, res.name, script, body, result), daemon=True
        )
        thread.start()

        def complete() -> dict[str, Any]:
            rt.command_running = False
            return result["output"]

        op = self.arm.start(
            "run_command",
            "Microsoft.Compute",
            res.location,
            complete,
            req,
            ready=lambda: "output" in result,
        )
        return Response(
            202, None, {**self.arm.lro_headers(op, req, location=True), **self.limits(VM, "POST")}
        )

    def _run_script(
        self, rt: VmRuntime, name: str, script: str, body: dict[str, Any], result: dict[str, Any]
    ) -> None:
        if rt.os_type != "Windows" or rt.machine is None:
            out, err, _ = native.run_sh(script, rt.computer_name)
            message = (
                f"Enable succeeded: \n[stdout]\n{out[-RUNCOMMAND_OUTPUT_LIMIT:]}\n"
                f"[stderr]\n{err[-RUNCOMMAND_OUTPUT_LIMIT:]}"
            )
            result["output"] = {
                "value": [
                    {
                        "code": "ProvisioningState/succeeded",
                        "level": "Info",
                        "displayStatus": "Provisioning succeeded",
                        "message": message,
                    }
                ]
            }
            return
        out: list[str] = []
        errors: list[str] = []
        sess = Session(
            rt.machine,
            "SYSTEM",
            out.append,
            lambda stream, text: errors.append(
                text if stream == "Error" else f"{stream.upper()}: {text}\r\n"
            ),
            cwd=r"C:\Packages\Plugins\Microsoft.CPlat.Core.RunCommandWindows\1.1.18"
            r"\Downloads",
        )
        for param in body.get("parameters") or []:
            sess.variables[str(param.get("name", "")).lower()] = param.get("value")
        with contextlib.suppress(Cancelled):
            sess.run(script)
        if sess.reboot_requested and rt.machine is not None:
            threading.Timer(rt.machine.settings.guest_seconds(2), rt.machine.reboot).start()
        stdout = "".join(out).replace("\r\n", "\n")[-RUNCOMMAND_OUTPUT_LIMIT:]
        stderr = "".join(errors).replace("\r\n", "\n")[-RUNCOMMAND_OUTPUT_LIMIT:]
        result["output"] = {
            "value": [
                {
                    "code": "ComponentStatus/StdOut/succeeded",
                    "level": "Info",
                    "displayStatus": "Provisioning succeeded",
                    "message": stdout.rstrip("\n"),
                },
                {
                    "code": "ComponentStatus/StdErr/succeeded",
                    "level": "Info",
                    "displayStatus": "Provisioning succeeded",
                    "message": stderr.rstrip("\n"),
                },
            ]
        }

    # -- images ------------------------------------------------------------------------------------
    def put_image(self, req: Request, group: str, name: str, res: Resource | None) -> Response:
        body = req.json()
        location = check_location(body.get("location"), IMAGE)
        refusals.check_compute_name(IMAGE, name)
        props = copy.deepcopy(body.get("properties") or {})
        source_id = ((props.get("sourceVirtualMachine") or {}).get("id")) or ""
        if not source_id:
            raise ArmError(
                501,
                "StandinNotModelled",
                "The loopback Azure stand-in makes images from sourceVirtualMachine only.",
            )
        vm = self.store.get(source_id)
        if vm is None or vm.rtype != VM:
            raise ArmError(
                404,
                "NotFound",
                "The entity was not found in this Azure location.",
                target="sourceVirtualMachine",
            )
        rt: VmRuntime = vm.runtime
        if not rt.generalized:
            raise not_allowed(
                f"The operation 'Create Image' requires the Virtual Machine "
                f"'{vm.name}' to be Generalized."
            )
        os_disk = vm.properties["storageProfile"]["osDisk"]
        storage = props.get("storageProfile") or {}
        props["storageProfile"] = {
            "osDisk": {
                "osType": rt.os_type,
                "osState": "Generalized",
                "diskSizeGB": os_disk.get("diskSizeGB"),
                "managedDisk": {"id": self.store.rid(vm.group, DISK, os_disk["name"])},
                "caching": os_disk.get("caching", "ReadWrite"),
                "storageAccountType": os_disk["managedDisk"]["storageAccountType"],
            },
            "dataDisks": [],
            "zoneResilient": bool(storage.get("zoneResilient", False)),
        }
        props.setdefault("hyperVGeneration", "V1")
        status = 200 if res is not None else 201
        rid = self.store.rid(group, IMAGE, name)
        snapshot = rt.machine.disk() if rt.machine is not None else None
        if rt.guest is not None:
            snapshot = linux_vms.capture(self.s, rt.guest)
        res = Resource(
            rid,
            IMAGE,
            self.store.group(group).name,
            name,
            location,  # type: ignore[union-attr]
            dict(body.get("tags") or {}),
            props,
            "Creating",
            runtime=snapshot,
            show_tags="tags" in body,
        )
        self.store.put(res)

        def complete() -> None:
            res.provisioning_state = "Succeeded"

        op = self.arm.start("image_create", "Microsoft.Compute", location, complete, req)
        return Response(
            status,
            self.render(res),
            {
                **self.arm.lro_headers(op, req, location=False, notification=True),
                **self.limits(IMAGE, "PUT"),
            },
        )

    # -- delete ------------------------------------------------------------------------------------
    def delete(self, req: Request, res: Resource) -> Response:
        if res.rtype == DISK:
            owner = (res.runtime or {}).get("managedBy")
            if owner and self.store.get(owner) is not None:
                raise not_allowed(f"Disk {res.name} is attached to VM {owner}.")
        kind = {VM: "vm_delete", IMAGE: "image_delete", DISK: "disk_delete"}[res.rtype]
        res.provisioning_state = "Deleting"
        if res.rtype == VM:
            res.runtime.power = "stopping"
            self.s.sync_hosts()

        def complete() -> None:
            if self.store.get(res.id) is not res:
                return
            self.store.remove(res.id)
            if res.rtype == VM:
                self.after_vm_delete(res)
            self.s.sync_hosts()

        op = self.arm.start(
            kind, "Microsoft.Compute", res.location, complete, req, disk=res.rtype == DISK
        )
        return Response(
            202,
            None,
            {**self.arm.lro_headers(op, req, location=True), **self.limits(res.rtype, "DELETE")},
        )

    def after_vm_delete(self, vm: Resource) -> None:
        linux_vms.destroy(vm)
        os_disk = vm.properties["storageProfile"]["osDisk"]
        disk = self.store.get(self.store.rid(vm.group, DISK, os_disk["name"]))
        if disk is not None:
            if os_disk.get("deleteOption") == "Delete":
                self.store.remove(disk.id)
            else:
                disk.runtime = {"managedBy": None}

    # -- rendering ---------------------------------------------------------------------------------
    def render(self, res: Resource, expand: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": res.name,
            "id": res.id,
            "type": res.rtype,
            "location": res.location,
        }
        if res.tags or res.show_tags:
            body["tags"] = dict(res.tags)
        if res.rtype == VM:
            body["properties"] = self.render_vm(res, expand)
        elif res.rtype == IMAGE:
            body["properties"] = {
                **copy.deepcopy(res.properties),
                "provisioningState": res.provisioning_state,
            }
        else:
            body.update(self.render_disk(res))
        return body

    def render_vm(self, res: Resource, expand: bool) -> dict[str, Any]:
        rt: VmRuntime = res.runtime
        p = copy.deepcopy(res.properties)
        storage = p["storageProfile"]
        if "publisher" in storage.get("imageReference", {}):
            storage["imageReference"]["exactVersion"] = rt.exact_version
        osp = p.get("osProfile", {})
        osp.pop("adminPassword", None)
        osp.pop("customData", None)
        if rt.os_type == "Windows":
            win = osp.setdefault("windowsConfiguration", {})
            win.setdefault("provisionVMAgent", True)
            win.setdefault("enableAutomaticUpdates", True)
            win.setdefault(
                "patchSettings", {"patchMode": "AutomaticByOS", "assessmentMode": "ImageDefault"}
            )
        else:
            lin = osp.setdefault("linuxConfiguration", {})
            lin.setdefault("disablePasswordAuthentication", not rt.admin_password)
            lin.setdefault("provisionVMAgent", True)
        osp.setdefault("secrets", [])
        osp["allowExtensionOperations"] = True
        osp["requireGuestProvisionSignal"] = True
        out: dict[str, Any] = {
            "vmId": rt.vm_id,
            **p,
            "provisioningState": res.provisioning_state,
            "timeCreated": rt.created,
        }
        if expand:
            out["instanceView"] = self.instance_view(res)
        return out

    def instance_view(self, res: Resource) -> dict[str, Any]:
        rt: VmRuntime = res.runtime
        now = _time()
        statuses: list[dict[str, Any]] = [
            {
                "code": f"ProvisioningState/{res.provisioning_state.lower()}",
                "level": "Info",
                "displayStatus": f"Provisioning {res.provisioning_state.lower()}",
                "time": now,
            }
        ]
        if rt.generalized:
            statuses.append(
                {"code": "OSState/generalized", "level": "Info", "displayStatus": "VM generalized"}
            )
        labels = {
            "running": "VM running",
            "stopped": "VM stopped",
            "deallocated": "VM deallocated",
            "starting": "VM starting",
            "stopping": "VM stopping",
            "deallocating": "VM deallocating",
            "restarting": "VM restarting",
            "updating": "VM updating",
        }
        power = rt.power if rt.power in labels else "starting"
        statuses.append(
            {"code": f"PowerState/{power}", "level": "Info", "displayStatus": labels[power]}
        )
        os_disk = res.properties["storageProfile"]["osDisk"]
        view: dict[str, Any] = {"computerName": rt.computer_name}
        if rt.machine is not None:
            view["osName"] = rt.machine.os_name
            view["osVersion"] = f"Microsoft Windows NT {rt.machine.os_version}.0"
        if power == "running":
            view["vmAgent"] = {
                "vmAgentVersion": "2.7.41491.1149",
                "statuses": [
                    {
                        "code": "ProvisioningState/succeeded",
                        "level": "Info",
                        "displayStatus": "Ready",
                        "message": "GuestAgent is running and processing the extensions.",
                        "time": now,
                    }
                ],
                "extensionHandlers": [],
            }
        view["disks"] = [
            {
                "name": os_disk["name"],
                "statuses": [
                    {
                        "code": "ProvisioningState/succeeded",
                        "level": "Info",
                        "displayStatus": "Provisioning succeeded",
                        "time": rt.created,
                    }
                ],
            }
        ]
        view["hyperVGeneration"] = "V1"
        view["statuses"] = statuses
        return view

    def render_disk(self, res: Resource) -> dict[str, Any]:
        owner = (res.runtime or {}).get("managedBy")
        vm = self.store.get(owner) if owner else None
        state = "Unattached"
        if vm is not None:
            state = "Reserved" if vm.runtime.power == "deallocated" else "Attached"
        out: dict[str, Any] = {}
        if vm is not None:
            out["managedBy"] = vm.id
        out["sku"] = res.sku
        out["properties"] = {
            **copy.deepcopy(res.properties),
            "timeCreated": _time(),
            "provisioningState": res.provisioning_state,
            "diskState": state,
            "uniqueId": res.guid,
            "diskSizeBytes": int(res.properties.get("diskSizeGB", 127)) * 1024**3,
        }
        return out


ENABLE_REMOTE_PS = r"""
$cert = New-SelfSignedCertificate -DnsName $env:COMPUTERNAME `
    -CertStoreLocation Cert:\LocalMachine\My
New-Item -Path WSMan:\localhost\Listener -Transport HTTPS -Address * `
    -CertificateThumbPrint $cert.Thumbprint -Force | Out-Null
New-NetFirewallRule -Name 'WinRM-HTTPS' -DisplayName 'Windows Remote Management (HTTPS-In)' `
    -Direction Inbound -Protocol TCP -LocalPort 5986 -Action Allow | Out-Null
"""
