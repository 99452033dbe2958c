"""terraform/ as Python values, for the offline checks (check-terraform.py,
check-wif-condition.py, check-helm.py): python-hcl2's parse with its quoting undone."""

import hcl2


def plain(value):
    """python-hcl2 keeps the quotes of names and strings ('"this"') and the escapes
    inside them: drop both, so values compare as Terraform sees them."""
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value


def load(path):
    """One .tf file, parsed and made plain."""
    return plain(hcl2.loads(path.read_text()))
