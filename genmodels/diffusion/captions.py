"""Varied captions for the 10 Fashion-MNIST classes: the text side of the text-to-image training pairs.

A caption is a template ("a photo of {}") filled with one of the class's phrases ("a running shoe"); the
U-Net learns each class from many wordings, so free-text prompts land near the right class. The empty
prompt "" is the unconditional one (classifier-free guidance, Ho & Salimans 2022).
"""

# One list per class, in the order of fashion_mnist.CLASS_NAMES; the first phrase is the class's short name.
# These bare phrases are also the class prototypes: "what the text encoder understood" compares a prompt's
# embedding with the mean embedding of each class's phrases (text_encoder.class_prototypes).
PHRASES = [
    ["t-shirt", "a t-shirt", "a tee", "a top", "a short-sleeved shirt", "a plain t-shirt", "a crew neck tee",
     "a cotton top", "a tank top", "some t-shirts"],
    ["trousers", "a pair of trousers", "pants", "a pair of pants", "jeans", "some jeans", "slacks",
     "a pair of jeans", "long pants", "leggings"],
    ["pullover", "a pullover", "a sweater", "a jumper", "a knitted sweater", "a sweatshirt", "a wool jumper",
     "a long-sleeved pullover", "a cardigan", "a warm sweater"],
    ["dress", "a dress", "a summer dress", "a long dress", "a gown", "a sundress", "a short dress",
     "an evening dress", "a sleeveless dress", "a frock"],
    ["coat", "a coat", "a jacket", "a winter coat", "an overcoat", "a raincoat", "a parka", "a trench coat",
     "a zip-up jacket", "a warm coat"],
    ["sandal", "a sandal", "sandals", "a pair of sandals", "a flip-flop", "a summer sandal", "a strappy sandal",
     "an open shoe", "a high-heeled sandal", "a beach sandal"],
    ["shirt", "a shirt", "a button-up shirt", "a blouse", "a dress shirt", "a long-sleeved shirt", "a collared shirt",
     "a flannel shirt", "an office shirt", "a casual shirt"],
    ["sneaker", "a sneaker", "sneakers", "a running shoe", "a trainer", "a pair of trainers", "a sports shoe",
     "a tennis shoe", "a low-top sneaker", "a gym shoe"],
    ["bag", "a bag", "a handbag", "a purse", "a tote bag", "a shoulder bag", "a backpack", "a leather bag",
     "a shopping bag", "a clutch"],
    ["ankle boot", "an ankle boot", "a boot", "boots", "a pair of boots", "a short boot", "a chelsea boot",
     "a leather boot", "a heeled boot", "a winter boot"],
]

TEMPLATES = ["{}", "{}", "a photo of {}", "a picture of {}", "an image of {}", "a drawing of {}",
             "a black and white photo of {}", "a small picture of {}", "this is {}", "a product photo of {}"]


def class_captions(label: int) -> list[str]:
    """Each template filled with each phrase of class `label` (training draws one of these uniformly)."""
    return [template.format(phrase) for template in TEMPLATES for phrase in PHRASES[label]]

