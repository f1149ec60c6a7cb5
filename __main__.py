"""envstack: one Pulumi stack is one isolated backend environment.

config -> regional provider -> Environment -> exports. Everything else lives in components/.
"""

import pulumi

from components.environment import Environment, EnvironmentArgs
from components.provider import regional_provider
from components.pulumi_runtime import load_stack_config

config = load_stack_config()  # validated before any resource is declared
provider = regional_provider(config, pulumi.get_stack())
environment = Environment(
    config.name,
    EnvironmentArgs(config=config, stack=pulumi.get_stack()),
    opts=pulumi.ResourceOptions(providers=[provider]),
)
for output_name, value in environment.outputs.items():
    pulumi.export(output_name, value)
