"""Document limits checked in linear time: depth, aliases and expanded fields.

A fragment is measured once and its measure reused wherever it is spread, so
checking a document costs as much as the document is long, however many times
its fragments spread one another. Counts still multiply through the spreads,
because that is the work the document would ask the server to do.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    SKIP,
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VisitorAction,
)
from graphql.validation import ASTValidationContext

# Counts stop growing here: a fragment bomb's true size is astronomical, and
# exact integers that large would cost time for nothing.
COUNT_CAP = 10**12


@dataclass(frozen=True)
class Limits:
    """The largest document the server accepts."""

    max_depth: int
    max_aliases: int
    max_fields: int


@dataclass(frozen=True)
class Measure:
    """How deep a selection nests, and how many aliases and fields it expands to."""

    depth: int = 0
    aliases: int = 0
    fields: int = 0

    def merge(self, other: "Measure") -> "Measure":
        """Both selections side by side: the deeper depth, the summed counts."""
        return Measure(
            depth=max(self.depth, other.depth),
            aliases=min(self.aliases + other.aliases, COUNT_CAP),
            fields=min(self.fields + other.fields, COUNT_CAP),
        )


EMPTY = Measure()


def measure_selections(
    selection_set: SelectionSetNode, fragments: Mapping[str, Measure]
) -> Measure:
    """The measure of a selection set, with spreads taken from `fragments`.

    A spread of a fragment missing from `fragments` (unknown, or closing a
    cycle) counts as empty; other validation rules report those.
    """
    total = EMPTY
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            total = total.merge(measure_field(selection, fragments))
        elif isinstance(selection, InlineFragmentNode):
            inner = measure_selections(selection.selection_set, fragments)
            total = total.merge(inner)
        elif isinstance(selection, FragmentSpreadNode):
            total = total.merge(fragments.get(selection.name.value, EMPTY))
    return total


def measure_field(node: FieldNode, fragments: Mapping[str, Measure]) -> Measure:
    """One field and what it selects; introspection adds no depth."""
    own = Measure(aliases=1 if node.alias else 0, fields=1)
    if node.selection_set is None:
        return own
    inner = measure_selections(node.selection_set, fragments)
    # GraphiQL's introspection query nests type references deeply; its size is
    # still bounded by the field count.
    introspection = node.name.value.startswith("__")
    nested = Measure(
        depth=0 if introspection else inner.depth + 1,
        aliases=inner.aliases,
        fields=inner.fields,
    )
    return own.merge(nested)


def fragment_order(context: ASTValidationContext) -> list[FragmentDefinitionNode]:
    """Fragments ordered so that each follows every fragment it spreads.

    The walk keeps its own stack, so long chains of fragments cannot exhaust
    Python's recursion limit; a spread that closes a cycle is skipped.
    """
    fragments = fragments_of(context.document)
    unvisited = set(fragments)
    order: list[FragmentDefinitionNode] = []
    for root in fragments.values():
        if root.name.value not in unvisited:
            continue
        unvisited.discard(root.name.value)
        path = [(root, spread_names(context, root))]
        while path:
            fragment, names = path[-1]
            following = next((name for name in names if name in unvisited), None)
            if following is None:
                order.append(fragment)
                path.pop()
                continue
            unvisited.discard(following)
            nested = fragments[following]
            path.append((nested, spread_names(context, nested)))
    return order


def spread_names(
    context: ASTValidationContext, fragment: FragmentDefinitionNode
) -> Iterator[str]:
    """The names of the fragments a fragment spreads, one at a time."""
    return (
        spread.name.value
        for spread in context.get_fragment_spreads(fragment.selection_set)
    )


def fragments_of(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    """The document's fragment definitions by name."""
    return {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }


def describe(count: int) -> str:
    """A count as a message shows it, saying so when it reached the cap."""
    return f"More than {COUNT_CAP}" if count >= COUNT_CAP else str(count)


def create_limit_rule(limits: Limits) -> type[ASTValidationRule]:
    """A validation rule enforcing `limits`; build it once per schema.

    ValidationCache keys its entries on the rule classes, so a class made per
    request would never find a document validated before.
    """

    class DocumentLimitRule(ASTValidationRule):
        """Measures the whole document when entering it, then skips its nodes."""

        def enter_document(
            self,
            node: DocumentNode,
            *_args: Any,  # noqa: ANN401 - the visitor's key, parent, path, ancestors
        ) -> VisitorAction:
            """Check every operation of the document."""
            measured: dict[str, Measure] = {}
            for fragment in fragment_order(self.context):
                measured[fragment.name.value] = measure_selections(
                    fragment.selection_set, measured
                )
            total = EMPTY
            for definition in node.definitions:
                if isinstance(definition, OperationDefinitionNode):
                    operation = measure_selections(definition.selection_set, measured)
                    self.check_depth(definition, operation.depth)
                    total = total.merge(operation)
            self.check_counts(total)
            return SKIP

        def check_depth(self, operation: OperationDefinitionNode, depth: int) -> None:
            if depth > limits.max_depth:
                name = operation.name.value if operation.name else "anonymous"
                self.report_error(
                    GraphQLError(
                        f"The operation '{name}' nests fields {depth} levels deep "
                        f"and exceeds maximum operation depth of "
                        f"{limits.max_depth}; ask for fewer nested fields.",
                        operation,
                    )
                )

        def check_counts(self, total: Measure) -> None:
            if total.aliases > limits.max_aliases:
                self.report_error(
                    GraphQLError(
                        f"{describe(total.aliases)} aliases found. "
                        f"Allowed: {limits.max_aliases}"
                    )
                )
            if total.fields > limits.max_fields:
                self.report_error(
                    GraphQLError(
                        f"{describe(total.fields)} fields found once fragments "
                        f"are expanded. Allowed: {limits.max_fields}; spread "
                        "fragments fewer times or ask for fewer fields."
                    )
                )

    return DocumentLimitRule
