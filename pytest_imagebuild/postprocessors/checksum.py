"""The checksum post-processor: one `<hex>\\t<basename>` file per checksum type."""

from __future__ import annotations

from typing import Any

from ..digests import file_digest
from ..multistep import Artifact
from ..template.gotemplate import Renderer
from ..template.types import string_list
from .base import PostContext

DEFAULT_OUTPUT = "packer_{{.BuildName}}_{{.BuilderType}}_{{.ChecksumType}}.checksum"



def post_process(ctx: PostContext, config: dict[str, Any], artifact: Artifact) -> Artifact:
    kinds = string_list(config.get("checksum_types")) or ["md5"]
    written = []
    for kind in kinds:
        data = {"BuildName": ctx.plan.name, "BuilderType": ctx.plan.type, "ChecksumType": kind}
        name = Renderer({}, data, {}).render(str(config.get("output") or DEFAULT_OUTPUT))
        output = ctx.output_path(name)
        output.parent.mkdir(parents=True, exist_ok=True)
        lines = [f"{file_digest(path, kind)}\t{path.name}\n" for path in artifact.files]
        with open(output, "a") as handle:
            handle.writelines(lines)
        written.append(output)
        ctx.ui.message(f"{kind} checksums written to {output}")
    return Artifact(
        builder_type="packer.post-processor.checksum",
        build_name=ctx.plan.name,
        id="",
        files=written,
    )
