"""The technicians' page in Dutch and English: every sentence it shows, as data.

A key maps to its English and Dutch text; ``{name}`` fields are filled by the template.
The language is the one the technician switched to, else the browser's Accept-Language.
"""

from __future__ import annotations

from collections.abc import Iterable

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"

# key: (English, Dutch)
TEXTS: dict[str, tuple[str, str]] = {
    "title": ("Technician", "Monteur"),
    "language.switch": ("Nederlands", "English"),
    "sign_in.title": ("Sign in", "Inloggen"),
    "sign_in.token": ("Your token", "Je token"),
    "sign_in.hint": (
        "Paste the token the office gave you (it starts with prov_).",
        "Plak het token dat je van kantoor kreeg (het begint met prov_).",
    ),
    "sign_in.button": ("Sign in", "Inloggen"),
    "sign_in.refused": (
        "This token does not work. Check it, or ask the office for a new one.",
        "Dit token werkt niet. Controleer het, of vraag kantoor om een nieuw token.",
    ),
    "sign_in.throttled": (
        "Too many attempts from here. Wait a few minutes and try again.",
        "Te veel pogingen vanaf hier. Wacht een paar minuten en probeer het opnieuw.",
    ),
    "sign_in.again": (
        "Your session has ended. Please sign in again.",
        "Je sessie is afgelopen. Log opnieuw in.",
    ),
    "sign_out": ("Sign out", "Uitloggen"),
    "sign_out.done": ("You are signed out.", "Je bent afgemeld."),
    "signed_in_as": ("Signed in as {name} ({role})", "Ingelogd als {name} ({role})"),
    "role.admin": ("admin", "beheerder"),
    "role.technician": ("technician", "monteur"),
    "role.support": ("support, view only", "support, alleen kijken"),
    "view_only": (
        "Your token may look but not change anything. Ask the office for a technician token.",
        "Met je token kun je kijken maar niets wijzigen. Vraag kantoor om een monteurstoken.",
    ),
    "forbidden": (
        "Your token may not change this. Ask the office for a technician token.",
        "Met je token mag je dit niet wijzigen. Vraag kantoor om een monteurstoken.",
    ),
    "csrf": (
        "This form is out of date or did not come from this page. Go back, reload and try again.",
        "Dit formulier is verlopen of kwam niet van deze pagina. Ga terug, herlaad en probeer "
        "opnieuw.",
    ),
    "not_found": ("Not found.", "Niet gevonden."),
    "back": ("Back", "Terug"),
    "search": ("Search", "Zoeken"),
    "sites.title": ("Choose the customer and site", "Kies de klant en locatie"),
    "sites.search": ("Customer or site", "Klant of locatie"),
    "sites.none": ("No customer or site matches.", "Geen klant of locatie gevonden."),
    "sites.no_sites": ("(no site)", "(geen locatie)"),
    "site.discovered": (
        "Phones that booted here, not paired",
        "Opgestarte telefoons, niet gekoppeld",
    ),
    "site.discovered.none": (
        "No unpaired phone booted here in the last 24 hours. Plug one in; it shows up here.",
        "Geen ongekoppelde telefoon opgestart in de afgelopen 24 uur. Sluit er een aan; hij "
        "verschijnt hier.",
    ),
    "site.discovered.none_here": (
        "None booted from this site's networks, but {count} did from other addresses (behind "
        "NAT, for instance): they are below.",
        "Geen enkele startte vanaf de netwerken van deze locatie, wel {count} vanaf andere "
        "adressen (achter NAT bijvoorbeeld): ze staan hieronder.",
    ),
    "site.discovered.elsewhere": (
        "Seen from other addresses ({count})",
        "Gezien vanaf andere adressen ({count})",
    ),
    "site.discovered.no_networks": (
        "This site has no networks set, so every unpaired phone is shown.",
        "Deze locatie heeft geen netwerken ingesteld, dus elke ongekoppelde telefoon staat hier.",
    ),
    "site.phones": ("Phones of this customer", "Telefoons van deze klant"),
    "site.phones.none": ("No phones yet.", "Nog geen telefoons."),
    "site.pair_other": ("Pair a phone by MAC", "Koppel een telefoon op MAC"),
    "device.pair": ("Pair", "Koppelen"),
    "device.first_seen": ("first seen {at}", "eerst gezien {at}"),
    "device.last_seen": ("last seen {at}", "laatst gezien {at}"),
    "device.from": ("from {source}", "vanaf {source}"),
    "device.unknown_vendor": ("unknown vendor", "onbekend merk"),
    "pair.title": ("Pair a phone", "Telefoon koppelen"),
    "pair.mac": ("MAC address (on the label)", "MAC-adres (op het etiket)"),
    "pair.mac.hint": (
        "Any notation: 80:5E:C0:AB:CD:EF, 805ec0abcdef, 805e.c0ab.cdef",
        "Elke schrijfwijze: 80:5E:C0:AB:CD:EF, 805ec0abcdef, 805e.c0ab.cdef",
    ),
    "pair.mac.ok": ("MAC {mac}", "MAC {mac}"),
    "pair.mac.bad": (
        "Not a MAC yet: twelve hex digits (0-9, A-F).",
        "Nog geen MAC: twaalf hexadecimale tekens (0-9, A-F).",
    ),
    "pair.mac.vendor": ("Vendor from the MAC: {vendor}", "Merk volgens de MAC: {vendor}"),
    "pair.mac.vendor_unknown": (
        "The MAC's vendor is not one we provision; check the label.",
        "Het merk van deze MAC ondersteunen we niet; controleer het etiket.",
    ),
    "pair.scan": ("Scan the label", "Scan het etiket"),
    "pair.scan.stop": ("Stop scanning", "Stop scannen"),
    "pair.scan.hint": (
        "Hold the barcode or QR code with the MAC in the frame.",
        "Houd de streepjescode of QR-code met de MAC in beeld.",
    ),
    "pair.scan.unavailable": (
        "The camera cannot be used here; type the MAC.",
        "De camera is hier niet te gebruiken; typ de MAC.",
    ),
    "pair.scan.found": ("Scanned: {mac}", "Gescand: {mac}"),
    "pair.extensions": ("Extension(s)", "Toestel(len)"),
    "pair.extensions.search": ("Name or number", "Naam of nummer"),
    "pair.extensions.on_phone": ("on phone {mac}", "op telefoon {mac}"),
    "pair.extensions.free": ("no phone yet", "nog geen telefoon"),
    "pair.extensions.none": (
        "No extension found for ‘{query}’. Search by name or number.",
        "Geen toestel gevonden voor ‘{query}’. Zoek op naam of nummer.",
    ),
    "pair.model": ("Model (check it on the box)", "Model (controleer het op de doos)"),
    "pair.model.choose": ("Choose the model", "Kies het model"),
    "pair.model.announced": (
        "Chosen from the phone's own request: it said it is a {model}.",
        "Gekozen uit het eigen verzoek van de telefoon: hij meldde zich als {model}.",
    ),
    "pair.button": ("Pair", "Koppelen"),
    "pair.shared": (
        "Yes, put it on this phone as well (both phones ring)",
        "Ja, ook op deze telefoon zetten (beide telefoons gaan over)",
    ),
    "pair.done": (
        "Paired. Plug the phone in (or restart it) within {minutes} minutes.",
        "Gekoppeld. Sluit de telefoon aan (of herstart hem) binnen {minutes} minuten.",
    ),
    "error.mac": (
        "That is not a MAC address: write twelve hex digits, e.g. 80:5E:C0:AB:CD:EF.",
        "Dat is geen MAC-adres: schrijf twaalf hexadecimale tekens, bv. 80:5E:C0:AB:CD:EF.",
    ),
    "error.extensions": ("Choose at least one extension.", "Kies minstens één toestel."),
    "error.extension_unknown": (
        "Extension {number} does not exist at this customer.",
        "Toestel {number} bestaat niet bij deze klant.",
    ),
    "error.model": ("Choose the model printed on the box.", "Kies het model dat op de doos staat."),
    "error.invalid": ("Not saved: {reason}", "Niet opgeslagen: {reason}"),
    "conflict.other_tenant": (
        "This MAC is paired at another customer. Check the label; if it is right, ask the "
        "office to unpair it there first. Nothing was changed.",
        "Deze MAC is gekoppeld bij een andere klant. Controleer het etiket; klopt het, vraag "
        "kantoor dan om hem daar eerst te ontkoppelen. Er is niets gewijzigd.",
    ),
    "conflict.extension": (
        "Extension {number} ({name}) is already on phone {mac}. Replacing that phone? Open it "
        "and use Swap. Should both ring? Tick the box below and pair again. Nothing was changed.",
        "Toestel {number} ({name}) staat al op telefoon {mac}. Vervang je die telefoon? Open hem "
        "en kies Omwisselen. Moeten beide overgaan? Vink hieronder aan en koppel opnieuw. Er is "
        "niets gewijzigd.",
    ),
    "conflict.deployed": (
        "Extension {number} is already on phone {mac}, which is in use. A second phone on it "
        "gets its SIP password, so only an admin may add it. Replacing that phone? Open it and "
        "use Swap. Nothing was changed.",
        "Toestel {number} staat al op telefoon {mac}, die in gebruik is. Een tweede telefoon "
        "krijgt dan zijn SIP-wachtwoord, dus alleen een beheerder mag dat. Vervang je die "
        "telefoon? Open hem en kies Omwisselen. Er is niets gewijzigd.",
    ),
    "conflict.same_tenant": (
        "{mac} is already a phone of this customer. Unpair it first, or swap onto another MAC. "
        "Nothing was changed.",
        "{mac} is al een telefoon van deze klant. Ontkoppel hem eerst, of wissel naar een "
        "andere MAC. Er is niets gewijzigd.",
    ),
    "phone.title": ("Phone {mac}", "Telefoon {mac}"),
    "phone.lines": ("Extensions: {lines}", "Toestellen: {lines}"),
    "phone.state": ("State", "Status"),
    "state.paired": ("Paired", "Gekoppeld"),
    "state.waiting": ("Waiting for its first boot", "Wacht op de eerste start"),
    "state.bootstrap": ("Basic settings fetched", "Basisinstellingen opgehaald"),
    "state.full": ("Full configuration fetched", "Volledige configuratie opgehaald"),
    "state.full_done": ("Fully provisioned", "Volledig ingericht"),
    "proof.full-certificate": (
        "proved by its factory certificate",
        "bewezen met zijn fabriekscertificaat",
    ),
    "proof.full-credentials": ("proved by its credentials", "bewezen met zijn inloggegevens"),
    "proof.full-first-use": ("first-boot window", "venster voor de eerste start"),
    "state.not_paired": (
        "Not paired: it gets no account.",
        "Niet gekoppeld: hij krijgt geen account.",
    ),
    "state.window_open": ("First boot allowed until {at}", "Eerste start toegestaan tot {at}"),
    "state.window_closed": (
        "The first-boot window has closed. Pair again to reopen it.",
        "Het venster voor de eerste start is dicht. Koppel opnieuw om het te openen.",
    ),
    "state.conflict": (
        "Warning: a second device ({source}) tried to use this phone's first boot. It got "
        "nothing. If that was not this phone, tell the office.",
        "Let op: een tweede apparaat ({source}) probeerde de eerste start van deze telefoon te "
        "gebruiken. Het kreeg niets. Was dat niet deze telefoon, meld het dan aan kantoor.",
    ),
    "phone.boots": ("Last requests", "Laatste verzoeken"),
    "phone.boots.none": ("No requests yet.", "Nog geen verzoeken."),
    "answer.full": ("full", "volledig"),
    "answer.bootstrap": ("basic", "basis"),
    "answer.not found": ("not found", "niet gevonden"),
    "answer.denied": ("refused", "geweigerd"),
    "answer.stored": ("uploaded", "geüpload"),
    "phone.history": ("Who did what", "Wie deed wat"),
    "phone.history.none": ("Nothing recorded yet.", "Nog niets vastgelegd."),
    "action.pair": ("paired", "koppelde"),
    "action.pair-refused": (
        "was refused a line of a phone in use (needs an admin)",
        "kreeg geen toestel van een telefoon in gebruik (alleen beheerder)",
    ),
    "action.shared": (
        "shares {lines} with a phone in use",
        "deelt {lines} met een telefoon in gebruik",
    ),
    "action.unpair": ("unpaired", "ontkoppelde"),
    "action.swap": ("swapped in (replacing {old})", "wisselde in (vervangt {old})"),
    "action.update": ("changed", "wijzigde"),
    "action.create": ("added", "voegde toe"),
    "action.delete": ("removed", "verwijderde"),
    "action.other": ("{action}", "{action}"),
    "swap.title": ("Swap phone {mac}", "Telefoon {mac} omwisselen"),
    "swap.explain": (
        "The new phone takes the lines and keys. The old one loses its credentials and the SIP "
        "passwords change, so the old phone stops working.",
        "De nieuwe telefoon krijgt de lijnen en toetsen. De oude verliest zijn inloggegevens en "
        "de SIP-wachtwoorden veranderen, dus de oude telefoon werkt niet meer.",
    ),
    "swap.new_mac": ("MAC of the new phone", "MAC van de nieuwe telefoon"),
    "swap.button": ("Swap", "Omwisselen"),
    "swap.confirm": (
        "Move {lines} from {old} to {new}? The old phone stops working.",
        "{lines} verplaatsen van {old} naar {new}? De oude telefoon werkt dan niet meer.",
    ),
    "swap.yes": ("Yes, swap", "Ja, omwisselen"),
    "swap.model.announced": (
        "The new phone said it is a {model}.",
        "De nieuwe telefoon meldde zich als {model}.",
    ),
    "swap.model.vendor": (
        "The new phone is a {vendor}: choose its model (on the box).",
        "De nieuwe telefoon is een {vendor}: kies het model (op de doos).",
    ),
    "swap.model.old": (
        "The new phone has not asked for its file yet, so the old phone's model is chosen: "
        "check it on the box.",
        "De nieuwe telefoon heeft zijn bestand nog niet opgevraagd, dus het model van de oude is "
        "gekozen: controleer het op de doos.",
    ),
    "swap.already": (
        "{new} has already replaced {old}; nothing more was changed.",
        "{new} heeft {old} al vervangen; er is verder niets gewijzigd.",
    ),
    "swap.done": (
        "Swapped. {new} now has the lines; plug it in within {minutes} minutes.",
        "Omgewisseld. {new} heeft nu de lijnen; sluit hem aan binnen {minutes} minuten.",
    ),
    "unpair.button": ("Unpair", "Ontkoppelen"),
    "unpair.confirm": (
        "Unpair {mac}? It loses its account and the SIP passwords of {lines} change.",
        "{mac} ontkoppelen? Hij verliest zijn account en de SIP-wachtwoorden van {lines} "
        "veranderen.",
    ),
    "unpair.yes": ("Yes, unpair", "Ja, ontkoppelen"),
    "unpair.done": ("{mac} is unpaired.", "{mac} is ontkoppeld."),
    "unpair.already": (
        "{mac} is not paired here (any more); nothing was changed.",
        "{mac} is hier niet (meer) gekoppeld; er is niets gewijzigd.",
    ),
    "cancel": ("Cancel", "Annuleren"),
    "live.offline": (
        "No connection to the server. Trying again by itself…",
        "Geen verbinding met de server. Probeert het vanzelf opnieuw…",
    ),
}


def text(language: str, key: str, **fields: object) -> str:
    """The sentence ``key`` in ``language``, with ``fields`` filled in."""
    english, dutch = TEXTS[key]
    template = dutch if language == "nl" else english
    return template.format(**fields) if fields else template


def choose_language(chosen: str | None, accepted: Iterable[tuple[str, float]]) -> str:
    """The switched-to language, else the best of Accept-Language (``nl-BE`` counts as nl)."""
    if chosen in LANGUAGES:
        return chosen
    best: tuple[float, str] | None = None
    for tag, quality in accepted:
        primary = tag.split("-")[0].strip().lower()
        if primary in LANGUAGES and quality > 0 and (best is None or quality > best[0]):
            best = (quality, primary)
    return best[1] if best else DEFAULT_LANGUAGE
