"""Protobuf schema of the CMS grouper data blob (``msdrg_combined.bin``), built in code.

CMS ships its MS-DRG tables as one serialized protobuf message (CMS name
``msdrg.Root``) inside ``msdrg-binary-access-*.jar``.  This module declares the
messages by field number and wire type, exactly as CMS's ``msdrg-jr.proto``
does (field names here are ours), and returns generated message classes.

Build-time only: it imports ``protobuf`` (the ``build`` extra); the runtime
library never imports this module.
"""
from __future__ import annotations

from functools import lru_cache

# (message name, [(field name, number, label, type, type_name)])
# label: "opt" | "rep"; type: protobuf scalar name or "msg:<Name>" / "enum:<Name>" / "map:<K>:<V>"
_MESSAGES: list[tuple[str, list[tuple[str, int, str, str]]]] = [
    ("Blob", [
        ("diagnoses", 1, "opt", "msg:DiagnosisTable"),
        ("procedures", 2, "opt", "msg:ProcedureTable"),
        ("code_cluster_ids", 3, "opt", "msg:ClusterIdTable"),
        ("cc_exclusion_lists", 4, "opt", "msg:CcExclusionLists"),
        ("pdx_exclusion_groups", 5, "opt", "msg:PdxExclusionTable"),
        ("clusters", 6, "opt", "msg:ClusterTable"),
        ("code_gender_mdcs", 7, "opt", "msg:GenderMdcTable"),
        ("drg_formulas", 8, "opt", "msg:DrgFormulaTable"),
        ("hac_formulas", 9, "opt", "msg:HacFormulaTable"),
        ("hac_codes", 10, "opt", "msg:HacCodeTable"),
        ("dx_attribute_patterns", 11, "opt", "msg:AttributePatterns"),
        ("pr_attribute_patterns", 12, "opt", "msg:PrAttributePatterns"),
        ("drg_titles", 13, "opt", "msg:DescriptionTable"),
        ("mdc_titles", 14, "opt", "msg:DescriptionTable"),
        ("base_drg_titles", 15, "opt", "msg:DescriptionTable"),
        ("hac_titles", 16, "opt", "msg:DescriptionTable"),
    ]),
    ("DescriptionTable", [("by_number", 1, "rep", "map:int32:DescriptionHistory")]),
    ("DescriptionHistory", [("texts", 1, "rep", "msg:DescriptionText")]),
    ("DescriptionText", [("text", 1, "opt", "string"), ("versions", 7, "rep", "int32")]),
    ("DiagnosisTable", [("by_code", 1, "rep", "map:string:DiagnosisHistory")]),
    ("DiagnosisHistory", [("records", 1, "rep", "msg:DiagnosisRecord")]),
    ("DiagnosisRecord", [
        ("mdc", 1, "opt", "int32"),
        ("severity", 2, "opt", "enum:Severity"),
        ("attr_pattern", 3, "opt", "int32"),
        ("hac_attr_pattern", 4, "opt", "int32"),
        ("dxcat_attr_pattern", 5, "opt", "int32"),
        ("versions", 6, "rep", "int32"),
    ]),
    ("AttributePatterns", [("by_number", 1, "rep", "map:int32:AttributeList")]),
    ("AttributeList", [("attributes", 1, "rep", "string")]),
    ("PrAttributePatterns", [("by_number", 1, "rep", "map:int32:PrAttributeList")]),
    ("PrAttributeList", [("attributes", 2, "rep", "string")]),
    ("ProcedureTable", [("by_code", 1, "rep", "map:string:ProcedureHistory")]),
    ("ProcedureHistory", [("records", 1, "rep", "msg:ProcedureRecord")]),
    ("ProcedureRecord", [("attr_pattern", 1, "opt", "int32"), ("versions", 2, "rep", "int32")]),
    ("ClusterIdTable", [("by_code", 1, "rep", "map:string:ClusterIdHistory")]),
    ("ClusterIdHistory", [("records", 1, "rep", "msg:ClusterIdRecord")]),
    ("ClusterIdRecord", [("cluster_ids", 1, "rep", "string"), ("versions", 2, "rep", "int32")]),
    ("ClusterTable", [("by_id", 1, "rep", "map:string:ClusterHistory")]),
    ("ClusterHistory", [("records", 1, "rep", "msg:ClusterRecord")]),
    ("ClusterRecord", [
        ("suppression_mdcs", 1, "rep", "int32"),
        ("choices", 3, "rep", "msg:ClusterChoice"),
        ("versions", 4, "rep", "int32"),
    ]),
    ("ClusterChoice", [("choice", 1, "opt", "int32"), ("codes", 2, "rep", "string")]),
    ("CcExclusionLists", [("by_number", 1, "rep", "map:int32:CcExclusionList")]),
    ("CcExclusionList", [("codes", 1, "rep", "string")]),
    ("PdxExclusionTable", [("by_code", 1, "rep", "map:string:PdxExclusionHistory")]),
    ("PdxExclusionHistory", [("records", 1, "rep", "msg:PdxExclusionRecord")]),
    ("PdxExclusionRecord", [("list_number", 1, "opt", "int32"), ("versions", 2, "rep", "int32")]),
    ("GenderMdcTable", [("by_code", 1, "rep", "map:string:GenderMdcHistory")]),
    ("GenderMdcHistory", [("records", 1, "rep", "msg:GenderMdcRecord")]),
    ("GenderMdcRecord", [("mdc_by_sex", 1, "rep", "map:int32:int32"), ("versions", 2, "rep", "int32")]),
    ("DrgFormulaTable", [("by_mdc", 1, "rep", "map:int32:DrgFormulaList")]),
    ("DrgFormulaList", [("formulas", 1, "rep", "msg:DrgFormula")]),
    ("DrgFormula", [
        ("drg", 1, "opt", "int32"),
        ("mdc", 2, "opt", "int32"),
        ("base_drg", 6, "opt", "int32"),
        ("surgical", 7, "opt", "string"),
        ("reroute_mdc", 8, "opt", "int32"),
        ("expression", 9, "opt", "string"),
        ("severity_suppression", 10, "rep", "string"),
        ("drg_severity", 11, "opt", "int32"),
        ("return_code", 12, "opt", "int32"),
        ("version_ranks", 13, "rep", "msg:VersionRank"),
    ]),
    ("VersionRank", [("rank", 1, "opt", "int32"), ("version", 2, "opt", "int32")]),
    ("HacFormulaTable", [("by_key", 1, "rep", "map:int32:HacFormulaList")]),
    ("HacFormulaList", [("items", 1, "rep", "msg:HacFormula")]),
    ("HacFormula", [
        ("hac_number", 1, "opt", "int32"),
        ("expression", 3, "opt", "string"),
        ("versions", 4, "rep", "int32"),
    ]),
    ("HacCodeTable", [("by_code", 1, "rep", "map:string:HacCodeHistory")]),
    ("HacCodeHistory", [("records", 1, "rep", "msg:HacCodeRecord")]),
    ("HacCodeRecord", [
        ("hac_operands", 1, "rep", "string"),
        ("hac_numbers", 2, "rep", "int32"),
        ("versions", 3, "rep", "int32"),
    ]),
]

# Secondary-diagnosis severity enum, CMS order (first value is MCC).
SEVERITY_NAMES = {0: "MCC", 1: "CC", 2: "NCC"}

_PACKAGE = "grouper_blob"


def _file_descriptor():
    from google.protobuf import descriptor_pb2

    FD = descriptor_pb2.FieldDescriptorProto
    scalar = {"int32": FD.TYPE_INT32, "string": FD.TYPE_STRING}
    fdp = descriptor_pb2.FileDescriptorProto(name="grouper_blob.proto", package=_PACKAGE, syntax="proto2")
    enum = fdp.enum_type.add(name="Severity")
    for number, name in SEVERITY_NAMES.items():
        enum.value.add(name=name, number=number)

    for msg_name, fields in _MESSAGES:
        msg = fdp.message_type.add(name=msg_name)
        for fname, number, label, ftype in fields:
            f = msg.field.add(name=fname, number=number)
            f.label = FD.LABEL_REPEATED if label == "rep" else FD.LABEL_OPTIONAL
            if ftype in scalar:
                f.type = scalar[ftype]
            elif ftype.startswith("enum:"):
                f.type = FD.TYPE_ENUM
                f.type_name = f".{_PACKAGE}.{ftype[5:]}"
            elif ftype.startswith("msg:"):
                f.type = FD.TYPE_MESSAGE
                f.type_name = f".{_PACKAGE}.{ftype[4:]}"
            elif ftype.startswith("map:"):
                _, ktype, vtype = ftype.split(":")
                entry_name = "".join(p.capitalize() for p in fname.split("_")) + "Entry"
                entry = msg.nested_type.add(name=entry_name)
                entry.options.map_entry = True
                k = entry.field.add(name="key", number=1, label=FD.LABEL_OPTIONAL, type=scalar[ktype])
                v = entry.field.add(name="value", number=2, label=FD.LABEL_OPTIONAL)
                if vtype in scalar:
                    v.type = scalar[vtype]
                else:
                    v.type = FD.TYPE_MESSAGE
                    v.type_name = f".{_PACKAGE}.{vtype}"
                del k
                f.type = FD.TYPE_MESSAGE
                f.type_name = f".{_PACKAGE}.{msg_name}.{entry_name}"
            else:  # pragma: no cover - programming error in the table above
                raise ValueError(ftype)
    return fdp


@lru_cache(maxsize=1)
def blob_class():
    """The generated message class of the whole blob (CMS ``msdrg.Root``)."""
    try:
        from google.protobuf import descriptor_pool, message_factory
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "building tables needs the 'protobuf' package: pip install 'grouper[build]'"
        ) from exc
    pool = descriptor_pool.DescriptorPool()
    pool.Add(_file_descriptor())
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.Blob"))
