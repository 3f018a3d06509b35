#!/usr/bin/env python3
"""Generate a synthetic facilitators CSV for load tests.

    python3 bench/gen_facilitators.py --rows N --out FILE [--seed S] [--jobs J]

Writes N rows in the registry's import format (the header of
seed/demo-facilitators.csv). Names, streets, cities and people come from
faker in fifteen European locales; company names combine faker surnames,
company names, cities and locale words with sector words and the country's
legal forms, so the vocabulary is large, as a real registry's is (trigram
search over a small word list is pathological and would measure nothing
useful). Registration numbers are unique per country and VAT numbers follow
each country's format. Web and e-mail domains end in the reserved `.example`
top-level domain, so no generated address can reach a real company.

Speed: faker is slow per call, so each locale's values are drawn once into
pools (in parallel) and the rows combine pool values, in chunks spread over
the CPU cores. The same --seed and faker version give the same file.
Progress goes to stderr.
"""

import argparse
import csv
import io
import json
import math
import multiprocessing as mp
import os
import random
import re
import sys
import time
import unicodedata

try:
    from faker import Faker
except ImportError:  # pragma: no cover - message for a bare python3
    sys.exit("gen_facilitators.py needs faker: pip install faker (scripts/bench sets up a venv with it)")

HEADER = [
    "id", "legal_name", "aliases", "sector", "stages", "markets", "country",
    "registration_number", "vat_number", "street", "postal_code", "city",
    "website", "email", "phone", "status", "notes", "contacts",
]

# country -> (weight, [(faker locale, language, share)], tld)
COUNTRIES = {
    "DE": (18, [("de_DE", "de", 1)], "de"),
    "FR": (14, [("fr_FR", "fr", 1)], "fr"),
    "IT": (11, [("it_IT", "it", 1)], "it"),
    "ES": (10, [("es_ES", "es", 1)], "es"),
    "PL": (8, [("pl_PL", "pl", 1)], "pl"),
    "NL": (7, [("nl_NL", "nl", 1)], "nl"),
    "BE": (5, [("nl_BE", "nl", 6), ("fr_BE", "fr", 4)], "be"),
    "SE": (4, [("sv_SE", "sv", 1)], "se"),
    "AT": (4, [("de_AT", "de", 1)], "at"),
    "PT": (3, [("pt_PT", "pt", 1)], "pt"),
    "CZ": (3, [("cs_CZ", "cs", 1)], "cz"),
    "IE": (3, [("en_IE", "en", 1)], "ie"),
    "DK": (2, [("da_DK", "da", 1)], "dk"),
    "FI": (2, [("fi_FI", "fi", 1)], "fi"),
    "LU": (1, [("fr_FR", "fr", 1)], "lu"),
}

LEGAL_FORMS = {  # (form, weight)
    "DE": [("GmbH", 60), ("GmbH & Co. KG", 10), ("UG (haftungsbeschränkt)", 8), ("AG", 6), ("KG", 4), ("e.K.", 5), ("OHG", 2), ("SE", 1)],
    "AT": [("GmbH", 65), ("AG", 8), ("KG", 8), ("e.U.", 10), ("OG", 5), ("GmbH & Co KG", 4)],
    "FR": [("SAS", 45), ("SARL", 30), ("SA", 8), ("SASU", 10), ("EURL", 5), ("SNC", 2)],
    "IT": [("S.r.l.", 60), ("S.p.A.", 12), ("S.r.l.s.", 12), ("S.a.s.", 10), ("S.n.c.", 6)],
    "ES": [("S.L.", 65), ("S.A.", 15), ("S.L.U.", 15), ("S. Coop.", 5)],
    "PL": [("Sp. z o.o.", 70), ("S.A.", 12), ("Sp. j.", 10), ("Sp. k.", 8)],
    "NL": [("B.V.", 80), ("N.V.", 5), ("V.O.F.", 10), ("C.V.", 5)],
    "BE-nl": [("BV", 70), ("NV", 20), ("CommV", 5), ("VOF", 5)],
    "BE-fr": [("SRL", 70), ("SA", 20), ("SComm", 5), ("SC", 5)],
    "SE": [("AB", 90), ("HB", 7), ("KB", 3)],
    "PT": [("Lda.", 70), ("S.A.", 15), ("Unipessoal Lda.", 15)],
    "CZ": [("s.r.o.", 85), ("a.s.", 12), ("v.o.s.", 3)],
    "IE": [("Ltd", 65), ("Limited", 15), ("DAC", 10), ("PLC", 3), ("Unlimited Company", 2), ("Teoranta", 5)],
    "DK": [("ApS", 75), ("A/S", 20), ("I/S", 5)],
    "FI": [("Oy", 85), ("Oyj", 5), ("Ky", 10)],
    "LU": [("S.à r.l.", 70), ("S.A.", 25), ("SCS", 5)],
}
# legal-form words that faker puts into company names; stripped from the
# company pool so a name never carries two legal forms
LEGAL_TOKENS = re.compile(
    r"\b(GmbH( & Co\.? KG)?|AG & Co\.?( KG)?|& Co\.?|AG|KG|OHG|e\. ?V\.|e\.K\.|KGaA|UG|mbH|SE|Stiftung|Gruppe|Group|Inc\.?|Ltd\.?|LLC|PLC|"
    r"S\.?A\.?S\.?|S\.?A\.?R\.?L\.?|SA|S\.A\.|SARL|SNC|EURL|S\.r\.l\.s?|s\.r\.l\.|S\.p\.A\.|s\.p\.a\.|S\.n\.c\.|S\.a\.s\.|"
    r"e figli|S\.L\.U?\.?|S\.L\.N\.E\.?|S\.Coop\.?|S\.C\.|Sp\. ?z ?o\.o\.|sp\. ?z ?o\.o\.|S\.A\.|s\.c\.|Sp\. ?j\.|Sp\. ?k\.|i syn|"
    r"Grupa|Fundacja|Stowarzyszenie|Spółdzielnia|B\.V\.|N\.V\.|V\.O\.F\.|C\.V\.|BV|NV|CommV|VOF|BVBA|AB|HB|KB|Lda\.?|"
    r"s\.r\.o\.|a\.s\.|v\.o\.s\.|k\.s\.|o\.s\.|ApS|A/S|I/S|Oy|Oyj|Ky|As Oy|Tmi|and|und|et|y|e|i|og|och|ja|a)$"
)

SECTORS = [  # (sector, weight)
    ("courier", 12), ("postal_service", 4), ("parcel_delivery", 14), ("food_delivery", 8),
    ("stealth_packaging", 5), ("internet_service_provider", 8), ("hosting_provider", 12),
    ("encrypted_messaging", 5), ("social_media", 6), ("cryptocurrency_exchange", 10),
    ("payment_service", 10), ("other", 6),
]
SECTOR_STAGES = {  # (base stages, optional extra stages)
    "courier": (["shipping"], []),
    "postal_service": (["shipping"], []),
    "parcel_delivery": (["shipping"], []),
    "food_delivery": (["shipping"], ["selling"]),
    "stealth_packaging": (["shipping"], ["selling"]),
    "internet_service_provider": (["setting_up_marketplace", "running_marketplace"], []),
    "hosting_provider": (["setting_up_marketplace", "running_marketplace"], []),
    "encrypted_messaging": (["selling"], ["running_marketplace"]),
    "social_media": (["selling"], ["running_marketplace"]),
    "cryptocurrency_exchange": (["selling", "running_marketplace"], []),
    "payment_service": (["selling", "running_marketplace"], []),
    "other": ([], ["setting_up_marketplace", "running_marketplace", "selling", "shipping"]),
}
STAGE_ORDER = ["setting_up_marketplace", "running_marketplace", "selling", "shipping"]
MARKET_SETS = [("drugs|firearms|contraband", 30), ("drugs", 30), ("drugs|contraband", 12),
               ("drugs|firearms", 10), ("firearms", 3), ("contraband", 4), ("firearms|contraband", 2), ("", 9)]

# sector words: "*" for every language, then per language
SECTOR_WORDS = {
    "courier": {"*": ["Express", "Courier", "Direct", "Speed"],
                "de": ["Kurierdienst", "Kurier", "Botendienst", "Eilboten", "Kurierservice", "Expressdienst"],
                "fr": ["Coursiers", "Course Express", "Coursier", "Livraison Express"],
                "nl": ["Koeriers", "Koerierdienst", "Snelkoerier", "Spoedkoerier"],
                "it": ["Corrieri", "Corriere Espresso", "Pony Express", "Recapiti"],
                "es": ["Mensajería", "Mensajeros", "Transportes Urgentes"],
                "pl": ["Kurier", "Przesyłki Kurierskie", "Ekspres"],
                "sv": ["Budfirma", "Bud", "Expressbud"], "da": ["Bud", "Kurér"], "fi": ["Kuriiri", "Pikalähetit"],
                "pt": ["Estafetas", "Expresso"], "cs": ["Kurýr", "Expres"], "en": ["Couriers", "Despatch"]},
    "postal_service": {"*": ["Post", "Mail", "Postal Services"],
                       "de": ["Briefdienst", "Postdienst", "Zustelldienste", "Briefzustellung"],
                       "fr": ["Courrier", "Distribution Postale", "Postal"],
                       "nl": ["Postbezorging", "Postdiensten"], "it": ["Poste Private", "Servizi Postali"],
                       "es": ["Servicios Postales", "Correo Privado"], "pl": ["Poczta", "Usługi Pocztowe"],
                       "sv": ["Postservice", "Brevbärning"], "da": ["Postservice"], "fi": ["Postipalvelut"],
                       "pt": ["Serviços Postais"], "cs": ["Poštovní služby"], "en": ["Mail Services"]},
    "parcel_delivery": {"*": ["Parcel", "Logistics", "Cargo", "Freight"],
                        "de": ["Paketdienst", "Logistik", "Paket", "Versand", "Spedition", "Transporte"],
                        "fr": ["Colis", "Logistique", "Transports", "Messagerie"],
                        "nl": ["Pakketdienst", "Pakket", "Logistiek", "Transport"],
                        "it": ["Spedizioni", "Logistica", "Trasporti", "Pacchi"],
                        "es": ["Paquetería", "Logística", "Transportes"],
                        "pl": ["Paczki", "Logistyka", "Spedycja", "Transport"],
                        "sv": ["Paket", "Frakt", "Logistik", "Åkeri"], "da": ["Pakker", "Fragt", "Logistik"],
                        "fi": ["Kuljetus", "Logistiikka", "Paketti"], "pt": ["Encomendas", "Logística", "Transportes"],
                        "cs": ["Balíky", "Logistika", "Přeprava"], "en": ["Parcels", "Haulage", "Distribution"]},
    "food_delivery": {"*": ["Food", "Eats", "Delivery", "Kitchen"],
                      "de": ["Lieferdienst", "Essen", "Bringdienst", "Lieferservice"],
                      "fr": ["Repas", "Livraison", "Gourmet"], "nl": ["Bezorgd", "Maaltijden", "Thuisbezorging"],
                      "it": ["Consegne", "Cibo", "A Domicilio"], "es": ["Comida", "A Domicilio", "Reparto"],
                      "pl": ["Dostawa Jedzenia", "Jedzenie", "Dowóz"], "sv": ["Matbud", "Mat"], "da": ["Madlevering"],
                      "fi": ["Ruokalähetti"], "pt": ["Refeições", "Entregas"], "cs": ["Rozvoz jídla"],
                      "en": ["Takeaway", "Meals"]},
    "stealth_packaging": {"*": ["Packaging", "Pack", "Seal", "Vacuum"],
                          "de": ["Verpackung", "Verpackungen", "Folien", "Vakuumtechnik"],
                          "fr": ["Emballages", "Conditionnement", "Sachets"], "nl": ["Verpakking", "Verpakkingen"],
                          "it": ["Imballaggi", "Confezioni", "Buste"], "es": ["Embalajes", "Envases"],
                          "pl": ["Opakowania", "Folie"], "sv": ["Förpackning"], "da": ["Emballage"],
                          "fi": ["Pakkaus"], "pt": ["Embalagens"], "cs": ["Obaly"], "en": ["Pouches"]},
    "internet_service_provider": {"*": ["Net", "Telecom", "Broadband", "Fiber", "Networks", "Online"],
                                  "de": ["Netz", "Breitband", "Glasfaser", "Telekommunikation"],
                                  "fr": ["Télécom", "Fibre", "Réseaux"], "nl": ["Netwerken", "Glasvezel", "Internet"],
                                  "it": ["Telecomunicazioni", "Fibra", "Rete"], "es": ["Telecomunicaciones", "Fibra", "Redes"],
                                  "pl": ["Telekom", "Sieć", "Światłowód"], "sv": ["Bredband", "Fiber", "Nät"],
                                  "da": ["Bredbånd", "Net"], "fi": ["Verkot", "Valokuitu"], "pt": ["Telecomunicações", "Fibra"],
                                  "cs": ["Telekomunikace", "Síť"], "en": ["Broadband", "Telecoms"]},
    "hosting_provider": {"*": ["Hosting", "Cloud", "Datacenter", "Server", "Host", "IT Services", "Data"],
                         "de": ["Rechenzentrum", "Serverdienste", "Hosting"], "fr": ["Hébergement", "Infogérance", "Nuage"],
                         "nl": ["Datacentrum", "Hosting"], "it": ["Hosting", "Data Center"], "es": ["Alojamiento", "Centro de Datos"],
                         "pl": ["Hosting", "Serwery"], "sv": ["Datacenter", "Drift"], "da": ["Hosting", "Datacenter"],
                         "fi": ["Palvelin", "Konesali"], "pt": ["Alojamento", "Servidores"], "cs": ["Hosting", "Datové centrum"],
                         "en": ["Hosting", "Colocation"]},
    "encrypted_messaging": {"*": ["Messenger", "Chat", "Secure", "Crypt", "Talk", "Signal"],
                            "de": ["Sicher", "Kommunikation", "Nachrichten"], "fr": ["Messagerie", "Communication"],
                            "nl": ["Berichten", "Veilig"], "it": ["Messaggi", "Comunicazioni"], "es": ["Mensajes", "Comunicaciones"],
                            "pl": ["Komunikator", "Wiadomości"], "sv": ["Meddelanden"], "da": ["Beskeder"],
                            "fi": ["Viestit"], "pt": ["Mensagens"], "cs": ["Zprávy"], "en": ["Messaging"]},
    "social_media": {"*": ["Social", "Community", "Media", "Connect", "Friends", "Stories"],
                     "de": ["Netzwerk", "Gemeinschaft", "Medien"], "fr": ["Réseau", "Communauté", "Médias"],
                     "nl": ["Buurt", "Gemeenschap", "Media"], "it": ["Comunità", "Piazza", "Media"],
                     "es": ["Comunidad", "Red Social", "Medios"], "pl": ["Społeczność", "Media"], "sv": ["Gemenskap"],
                     "da": ["Fællesskab"], "fi": ["Yhteisö"], "pt": ["Comunidade"], "cs": ["Komunita"], "en": ["Network"]},
    "cryptocurrency_exchange": {"*": ["Crypto", "Coin", "Bitcoin", "Exchange", "Block", "Chain", "Token", "Digital Assets"],
                                "de": ["Krypto", "Kryptobörse", "Wechselstube", "Bitcoin-Automaten"],
                                "fr": ["Crypto-actifs", "Change", "Monnaie Numérique"], "nl": ["Munt", "Wisselkantoor"],
                                "it": ["Cambio Cripto", "Criptovalute"], "es": ["Cripto", "Cambio", "Criptomonedas"],
                                "pl": ["Kryptowaluty", "Kantor"], "sv": ["Kryptoväxling"], "da": ["Kryptoveksling"],
                                "fi": ["Kryptovaihto"], "pt": ["Câmbio Digital", "Cripto"], "cs": ["Směnárna", "Kryptoměny"],
                                "en": ["Exchange", "Crypto"]},
    "payment_service": {"*": ["Pay", "Payments", "Fintech", "Money", "Wallet", "Cash", "Card"],
                        "de": ["Zahlungsdienste", "Bezahlsysteme", "Zahlungsverkehr"], "fr": ["Paiement", "Monétique"],
                        "nl": ["Betalingen", "Betaal"], "it": ["Pagamenti", "Moneta"], "es": ["Pagos", "Medios de Pago"],
                        "pl": ["Płatności", "Przelewy"], "sv": ["Betalningar"], "da": ["Betalinger"],
                        "fi": ["Maksupalvelut"], "pt": ["Pagamentos"], "cs": ["Platby", "Platební služby"],
                        "en": ["Payments", "Remittance"]},
    "other": {"*": ["Trading", "Storage", "Services", "Supplies", "Technik", "Solutions"],
              "de": ["Handel", "Lagerservice", "Maschinenbau", "Druckerei", "Büroservice", "Tablettiertechnik"],
              "fr": ["Négoce", "Garde-Meubles", "Domiciliation", "Imprimerie"], "nl": ["Opslag", "Handel", "Drukkerij"],
              "it": ["Commercio", "Magazzini", "Tipografia"], "es": ["Comercial", "Almacenes", "Imprenta"],
              "pl": ["Handel", "Magazyny", "Drukarnia"], "sv": ["Handel", "Förvaring"], "da": ["Handel", "Opbevaring"],
              "fi": ["Kauppa", "Varastointi"], "pt": ["Comércio", "Armazéns"], "cs": ["Obchod", "Sklady"],
              "en": ["Storage", "Trading", "Mail Forwarding"]},
}
# invented brand syllables, so that some names are neither a surname nor a dictionary word
BRAND_HEADS = ["Al", "Bel", "Bor", "Cal", "Cor", "Dal", "Del", "Dor", "El", "Fal", "Fen", "Gal", "Gor", "Hal", "Hel",
               "Il", "Jor", "Kal", "Kor", "Lin", "Lor", "Mar", "Mer", "Mon", "Nor", "Nov", "Or", "Pal", "Per", "Pol",
               "Quin", "Ral", "Rom", "Sal", "Sel", "Sor", "Tal", "Ter", "Tor", "Ul", "Val", "Ven", "Vir", "Wal", "Xan",
               "Yor", "Zan", "Zel", "Ast", "Bri", "Cri", "Dra", "Fro", "Gra", "Kro", "Pra", "Stra", "Tri", "Vol", "Zor"]
BRAND_MIDS = ["", "", "", "a", "e", "i", "o", "u", "an", "en", "ar", "or", "is", "ex", "ol", "ur", "ad", "ev", "im", "ot"]
BRAND_TAILS = ["a", "o", "ia", "io", "ix", "ex", "on", "us", "is", "yn", "ara", "ento", "ika", "ora", "ano", "ess",
               "ium", "eo", "ity", "ax", "ella", "ino", "ona", "ero", "ida", "ant", "ens", "go", "ly", "net", "tek"]
BRAND_WORDS = ["Nord", "Süd", "West", "Ost", "Euro", "Inter", "Trans", "Global", "Alpha", "Delta", "Nova", "Prime",
               "Blue", "Green", "Swift", "Rapid", "Star", "Arc", "Peak", "Vista", "Terra", "Aqua", "Atlas", "Orbit",
               "Pixel", "Quantum", "Zen", "Echo", "Lumen", "Nimbus", "Vector", "Polar", "Fox", "Falcon", "Lynx"]

ROLES = {
    "*": ["Head of Security", "Compliance Officer", "Data Protection Officer", "Legal Counsel", "Managing Director",
          "Law Enforcement Liaison", "Head of Operations", "Risk Manager", "Trust & Safety Lead", "Abuse Desk"],
    "de": ["Geschäftsführer", "Geschäftsführerin", "Leiter Unternehmenssicherheit", "Datenschutzbeauftragte", "Prokurist"],
    "fr": ["Directeur général", "Responsable conformité", "Délégué à la protection des données", "Directrice juridique"],
    "nl": ["Directeur", "Bedrijfsleider", "Functionaris gegevensbescherming", "Compliance Manager"],
    "it": ["Amministratore delegato", "Responsabile sicurezza", "Responsabile della protezione dei dati"],
    "es": ["Administrador único", "Director de seguridad", "Delegado de protección de datos"],
    "pl": ["Prezes zarządu", "Kierownik ds. bezpieczeństwa", "Inspektor ochrony danych"],
    "sv": ["VD", "Säkerhetschef", "Dataskyddsombud"], "da": ["Direktør", "Sikkerhedschef"],
    "fi": ["Toimitusjohtaja", "Turvallisuuspäällikkö"], "pt": ["Gerente", "Encarregado de proteção de dados"],
    "cs": ["Jednatel", "Vedoucí bezpečnosti"], "en": ["Director", "Money Laundering Reporting Officer"],
}
SECTOR_ROLES = {
    "cryptocurrency_exchange": ["MLRO", "AML Officer", "Chief Compliance Officer"],
    "payment_service": ["MLRO", "Head of Fraud", "AML Officer"],
    "hosting_provider": ["Abuse Manager", "CTO", "Network Operations"],
    "internet_service_provider": ["Abuse Manager", "Lawful Interception Officer"],
    "social_media": ["Head of Content Moderation", "Trust & Safety Lead"],
    "encrypted_messaging": ["Trust & Safety Lead", "Head of Legal"],
}
NOTES = [
    "Registered after a referral from customs.",
    "Contact point confirmed by phone; prefers e-mail for formal notices.",
    "Answered the outreach letter within two weeks, see attached minutes.",
    "Frequent consignments from the same sender, paid in cash.",
    "Track-and-trace turned off on request of the sender, according to the police report.",
    "Bitcoin-ATM withdrawals rose sharply near its pick-up points.",
    "Seller accounts advertise with emoji codes; takedown requests handled slowly.",
    "Group company; the parent answers for {city} as well.",
    "Moved its head office to {city} in {year}.",
    "Abuse desk unreachable outside office hours, \"24/7\" claim on the website is not accurate.",
    "Staff awareness training offered by the authority, accepted for {year}.",
    "Uses subcontractors for the last mile; their names are not disclosed.",
    "Licence renewed in {year}; conditions on reporting suspicious parcels.",
    "Multiple reports, see case file {case}.\nSecond notice sent by registered mail.",
    "Declined to name a contact point; refers all requests to its lawyers, \"as a matter of policy\".",
    "Bulk orders of vacuum bags, paid with prepaid cards, were reported by the seller.",
]
STATUSES = [("", 40), ("active", 40), ("dormant", 10), ("dissolved", 5), ("archived", 5)]

PHONE = {  # country calling code, area codes, subscriber digits
    "DE": ("49", ["30", "40", "89", "221", "69", "711", "211", "231", "201", "341", "351", "511", "911", "421", "228", "6221", "7531", "2151"], (6, 8)),
    "AT": ("43", ["1", "316", "512", "662", "732", "463", "2742", "5572"], (5, 7)),
    "FR": ("33", ["1", "2", "3", "4", "5", "9"], (8, 8)),
    "IT": ("39", ["02", "06", "011", "010", "051", "055", "081", "091", "045", "070", "080"], (6, 8)),
    "ES": ("34", ["91", "93", "95", "96", "94", "98", "976", "983", "971", "928"], (6, 7)),
    "PL": ("48", ["22", "12", "58", "61", "71", "42", "32", "81", "91", "52"], (7, 7)),
    "NL": ("31", ["20", "10", "70", "30", "40", "50", "43", "53", "71", "76", "24"], (7, 7)),
    "BE": ("32", ["2", "3", "9", "4", "10", "11", "16", "50", "65", "71", "81"], (6, 7)),
    "SE": ("46", ["8", "31", "40", "18", "13", "90", "920", "54", "60"], (6, 8)),
    "PT": ("351", ["21", "22", "239", "253", "289"], (7, 7)),
    "CZ": ("420", ["2", "543", "585", "377", "596", "466"], (6, 8)),
    "IE": ("353", ["1", "21", "61", "91", "51", "74", "42"], (5, 7)),
    "DK": ("45", ["33", "35", "38", "70", "86", "98", "66"], (6, 6)),
    "FI": ("358", ["9", "2", "3", "5", "8", "14", "17"], (6, 8)),
    "LU": ("352", ["2", "26", "27", "40", "43", "48"], (4, 6)),
}
# countries whose faker locale has no usable addresses: a hand list of real towns and postcodes
TOWNS = {
    "IE": [("D02", "Dublin"), ("D04", "Dublin"), ("D08", "Dublin"), ("D15", "Dublin"), ("D24", "Dublin"), ("T12", "Cork"),
           ("T23", "Cork"), ("H91", "Galway"), ("V94", "Limerick"), ("X91", "Waterford"), ("A91", "Dundalk"),
           ("A92", "Drogheda"), ("W91", "Naas"), ("R95", "Kilkenny"), ("F91", "Sligo"), ("V92", "Tralee"),
           ("N37", "Athlone"), ("Y35", "Wexford"), ("E91", "Clonmel"), ("R93", "Carlow"), ("F92", "Letterkenny")],
    "LU": [("L-1", "Luxembourg"), ("L-2", "Luxembourg"), ("L-4", "Esch-sur-Alzette"), ("L-4", "Differdange"),
           ("L-3", "Dudelange"), ("L-9", "Ettelbruck"), ("L-9", "Diekirch"), ("L-8", "Strassen"), ("L-8", "Bertrange"),
           ("L-8", "Mamer"), ("L-5", "Hesperange"), ("L-6", "Grevenmacher"), ("L-3", "Bettembourg"), ("L-7", "Mersch"),
           ("L-5", "Remich"), ("L-9", "Wiltz"), ("L-6", "Echternach"), ("L-4", "Sanem"), ("L-3", "Schifflange")],
    "BE-fr": [("1000", "Bruxelles"), ("1050", "Ixelles"), ("1060", "Saint-Gilles"), ("1080", "Molenbeek-Saint-Jean"),
              ("1180", "Uccle"), ("1300", "Wavre"), ("1348", "Louvain-la-Neuve"), ("1400", "Nivelles"),
              ("4000", "Liège"), ("4020", "Liège"), ("4800", "Verviers"), ("5000", "Namur"), ("5100", "Jambes"),
              ("6000", "Charleroi"), ("6700", "Arlon"), ("7000", "Mons"), ("7500", "Tournai"), ("7100", "La Louvière"),
              ("6900", "Marche-en-Famenne"), ("5500", "Dinant"), ("4500", "Huy"), ("7700", "Mouscron")],
}
RCS_CITIES = ["PARIS", "LYON", "MARSEILLE", "TOULOUSE", "NICE", "NANTES", "STRASBOURG", "MONTPELLIER", "BORDEAUX",
              "LILLE METROPOLE", "RENNES", "REIMS", "GRENOBLE", "DIJON", "ANGERS", "NIMES", "CRETEIL", "NANTERRE",
              "VERSAILLES", "BOBIGNY", "EVRY", "PONTOISE", "ROUEN", "CAEN", "TOURS", "ORLEANS", "METZ", "NANCY",
              "CLERMONT-FERRAND", "LIMOGES", "POITIERS", "AMIENS", "BESANCON", "PERPIGNAN", "AVIGNON", "TOULON"]
REA_PROVINCES = ["MI", "RM", "TO", "NA", "BO", "FI", "GE", "VE", "PD", "VR", "BA", "PA", "CT", "BS", "BG", "MO", "PR", "TS"]
ES_REG_LETTERS = {"S.A.": "A", "S. Coop.": "F"}


def _fold(text):
    """ASCII slug of a name for domains and mailboxes."""
    text = text.replace("ß", "ss").replace("ø", "o").replace("Ø", "O").replace("æ", "ae").replace("Æ", "AE")
    text = text.replace("ł", "l").replace("Ł", "L").replace("đ", "d").replace("&", " ")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


# ---------------------------------------------------------------------------
# pools: each profile's faker values, drawn once


def _unique(fn, want, tries):
    seen = {}
    for _ in range(tries):
        v = fn()
        if v and v not in seen:
            seen[v] = None
            if len(seen) >= want:
                break
    return list(seen)


LEADING_NON_COMPANY = re.compile(r"^(Stowarzyszenie|Fundacja|Spółdzielnia|Stiftung|Verein|Association|Fondation) ")


def _strip_legal(name):
    prev = None
    name = LEADING_NON_COMPANY.sub("", name.strip(" ,"))
    while prev != name:
        prev = name
        name = LEGAL_TOKENS.sub("", name).strip(" ,-&")
    return name


def build_pool(args):
    """One profile's pools (runs in a worker; deterministic per seed and profile)."""
    locale, lang, seed = args
    fk = Faker(locale)
    fk.seed_instance(f"{seed}-{locale}")
    latin_lorem = lang in ("sv", "en", "da", "fi", "pt") or locale == "fr_BE"
    pool = {
        "last": _unique(fk.last_name, 4000, 40000),
        "first": _unique(fk.first_name, 1500, 15000),
        "company": [c for c in (_strip_legal(x) for x in _unique(fk.company, 6000, 12000)) if len(c) >= 3],
        "words": [] if latin_lorem else
        [w.capitalize() for w in _unique(fk.word, 1500, 15000) if len(w) >= 4 and w.isalpha()],
    }
    if locale == "fr_BE":  # fr_BE has no addresses of its own: French street names, Walloon towns
        fr = Faker("fr_FR")
        fr.seed_instance(f"{seed}-fr_BE-streets")
        kinds = ["Rue", "Rue", "Rue", "Avenue", "Chaussée de", "Place", "Boulevard", "Quai", "Clos", "Drève"]
        rnd = random.Random(f"{seed}-fr_BE")
        pool["streets"] = [f"{rnd.choice(kinds)} {n} {rnd.randint(1, 240)}" for n in _unique(fr.last_name, 3000, 30000)]
        pool["towns"] = [(pc[:2] + f"{rnd.randint(0, 99):02d}" if pc.endswith("00") else pc, city)
                         for pc, city in TOWNS["BE-fr"] for _ in range(3)]
    elif locale == "en_IE":
        rnd = random.Random(f"{seed}-en_IE")
        kinds = ["Street", "Road", "Avenue", "Park", "Terrace", "Quay", "Lane", "Place", "Crescent", "Court"]
        names = _unique(fk.last_name, 3000, 30000)
        pool["streets"] = [f"{rnd.randint(1, 180)} {n} {rnd.choice(kinds)}" for n in names]
        letters = "ACDEFHKNPRTVWXY"
        pool["towns"] = [(f"{rk} {rnd.choice(letters)}{rnd.randint(0, 9)}{rnd.choice(letters)}{rnd.randint(0, 9)}", city)
                         for rk, city in TOWNS["IE"] for _ in range(40)]
    elif lang == "fr" and locale == "fr_FR":
        pool["streets"] = [f"{fk.building_number()} {s}" for s in _unique(fk.street_name, 4000, 8000)]
        pool["towns"] = list(zip(_unique(fk.postcode, 3000, 6000), _unique(fk.city, 3000, 6000)))
    else:
        pool["streets"] = [s.strip() for s in _unique(fk.street_address, 4000, 8000)]
        pool["towns"] = list(zip(_unique(fk.postcode, 3000, 6000), _unique(fk.city, 3000, 6000)))
    pool["cities"] = len({city for _, city in pool["towns"]})
    return (locale, pool)


# ---------------------------------------------------------------------------
# registration and VAT numbers


def _luhn_digit(digits):
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


class Numbering:
    """Unique, scrambled numbers per country: n = low + (a*j + b) mod span, j the row's rank in its country."""

    def __init__(self, count, digits, rnd):
        while 9 * 10 ** (digits - 1) < count:
            digits += 1
        self.low = 10 ** (digits - 1)
        self.span = 9 * 10 ** (digits - 1)
        a = rnd.randrange(self.span // 3, self.span)
        while math.gcd(a, self.span) != 1:
            a += 1
        self.a, self.b = a, rnd.randrange(self.span)

    def __call__(self, j):
        return self.low + (self.a * j + self.b) % self.span


REG_DIGITS = {"DE": 6, "AT": 6, "FR": 8, "IT": 7, "ES": 7, "PL": 6, "NL": 8, "BE": 7, "SE": 6,
              "PT": 7, "CZ": 8, "IE": 6, "DK": 8, "FI": 7, "LU": 6}


def registration(cc, n, form, r):
    """(registration_number, vat_number) for the country's n-th company; r draws the VAT digits that n does not fix."""
    s = str(n)
    if cc == "DE":
        kind = "HRA" if form in ("KG", "OHG", "e.K.", "GmbH & Co. KG") else "HRB"
        suffix = [" B", "", "", "", "", "", " HB", ""][n % 8] if kind == "HRB" else ""
        return f"{kind} {s}{suffix}", f"DE{r.randrange(10 ** 8, 10 ** 9)}"
    if cc == "AT":
        return f"FN {s} {'abdfghikmpstvwxyz'[n % 17].upper()}", f"ATU{r.randrange(10 ** 7, 10 ** 8)}"
    if cc == "FR":
        siren = s + _luhn_digit(s)
        key = (12 + 3 * (int(siren) % 97)) % 97
        return f"RCS {RCS_CITIES[n % len(RCS_CITIES)]} {siren[:3]} {siren[3:6]} {siren[6:]}", f"FR{key:02d}{siren}"
    if cc == "IT":
        piva = f"{r.randrange(10 ** 9, 10 ** 10):010d}"
        return f"REA {REA_PROVINCES[n % len(REA_PROVINCES)]}-{s}", f"IT{piva}{_luhn_digit(piva)}"
    if cc == "ES":
        cif = ES_REG_LETTERS.get(form, "B") + s + _luhn_digit(s)
        return cif, f"ES{cif}"
    if cc == "PL":
        return f"KRS {n:010d}", f"PL{r.randrange(10 ** 9, 10 ** 10)}"
    if cc == "NL":
        return s, f"NL{r.randrange(10 ** 8, 10 ** 9)}B{r.choice(('01', '01', '01', '02', '03'))}"
    if cc == "BE":
        first8 = f"0{s}" if n % 5 else f"1{s}"
        num = f"{first8}{97 - int(first8) % 97:02d}"
        return f"{num[:4]}.{num[4:7]}.{num[7:]}", f"BE{num}"
    if cc == "SE":
        org = ("556" if n % 3 else "559") + s
        org += _luhn_digit(org)
        return f"{org[:6]}-{org[6:]}", f"SE{org}01"
    if cc == "PT":
        nipc = "5" + s
        check = 11 - sum(int(d) * w for d, w in zip(nipc, range(9, 1, -1))) % 11
        return nipc + str(0 if check >= 10 else check), None
    if cc == "CZ":
        return s, f"CZ{s}"
    if cc == "IE":
        return s, f"IE{r.randrange(10 ** 6, 10 ** 7)}{r.choice('ABCDEFGHIJKLMNOPQRSTUVW')}{r.choice(('', '', 'H', 'A'))}"
    if cc == "DK":
        return s, f"DK{s}"
    if cc == "FI":
        return f"{s}-{_luhn_digit(s)}", f"FI{s}{_luhn_digit(s)}"
    if cc == "LU":
        return f"B{s}", f"LU{r.randrange(10 ** 7, 10 ** 8)}"
    raise ValueError(cc)


# ---------------------------------------------------------------------------
# rows


def _phone(code, area, number):
    digits = str(number)
    if code == "33":  # French numbers are written in pairs: +33 1 42 12 34 56
        digits = " ".join(digits[i:i + 2] for i in range(0, len(digits), 2))
    return f"+{code} {area} {digits}"


def _weighted(pairs):
    values = [v for v, _ in pairs]
    cum, t = [], 0
    for _, w in pairs:
        t += w
        cum.append(t)
    return values, cum


G = {}  # per-process state: pools and tables, set before the workers fork


def make_rows(task):
    chunk, countries, profiles, ranks, seed = task
    P = G["pools"]
    numbering = G["numbering"]
    r = random.Random(f"{seed}-rows-{chunk}")
    rand, rrange, choice, choices = r.random, r.randrange, r.choice, r.choices
    sector_v, sector_c = G["sectors"]
    status_v, status_c = G["statuses"]
    market_v, market_c = G["markets"]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    used = set()
    for cc, locale, j in zip(countries, profiles, ranks):
        pool = P[locale]
        lang = G["lang"][locale]
        form_v, form_c = G["forms"][("BE-" + lang) if cc == "BE" else cc]
        form = choices(form_v, cum_weights=form_c)[0]
        sector = choices(sector_v, cum_weights=sector_c)[0]
        sw = SECTOR_WORDS[sector]
        local_words = sw.get(lang, [])
        sector_word = choice(local_words) if local_words and rand() < 0.7 else choice(sw["*"])
        if cc == "LU":  # fr_FR towns would be French: Luxembourg has its own list
            postal, city = choice(TOWNS["LU"])
            postal = f"{postal}{rrange(100, 1000)}"
        else:
            postal, city = choice(pool["towns"])

        # the name: several shapes, so that the vocabulary is a real registry's;
        # a name already used in this chunk for the country is drawn again
        place = city.split(",")[0]
        many_towns = cc != "LU" and pool["cities"] >= 300
        for _attempt in range(4):
            k = rand()
            if k < 0.22:
                core = f"{choice(pool['last'])} {sector_word}"
            elif k < 0.34:
                core = f"{choice(pool['last'])} {choice(('&', 'und' if lang == 'de' else '&', '-'))} {choice(pool['last'])}".replace(" - ", "-")
                if rand() < 0.4:
                    core = f"{core} {sector_word}"
            elif k < 0.52:
                core = choice(pool["company"])
                if rand() < 0.75:
                    core = f"{core} {sector_word}"
            elif k < 0.60 and many_towns:
                core = f"{place} {sector_word}"
            elif 0.60 <= k < 0.70 and pool["words"]:
                core = f"{choice(pool['words'])} {sector_word}"
            elif k < 0.80:
                core = f"{choice(pool['first'])} {choice(pool['last'])} {sector_word}"
            elif k < 0.92:
                brand = choice(BRAND_HEADS) + choice(BRAND_MIDS) + choice(BRAND_TAILS)
                core = f"{brand} {sector_word}" if rand() < 0.6 else brand
            else:
                core = f"{choice(BRAND_WORDS)}{choice(BRAND_TAILS)} {sector_word}"
            if rand() < 0.25 and place not in core:  # a regional branch: "Müller Kurierdienst Hamburg GmbH"
                core = f"{core} {place}"
            legal_name = f"{core} {form}"
            key = (cc, legal_name.lower())
            if key not in used:
                break
        used.add(key)

        aliases = []
        a = rand()
        if a < 0.25:
            aliases.append(core)
        elif a < 0.35:
            initials = "".join(p[0] for p in re.split(r"[\s&-]+", core) if p and p[0].isalpha()).upper()
            if len(initials) >= 2:
                aliases.append(f"{initials} {sector_word}" if rand() < 0.5 else initials)
        if rand() < 0.08:
            aliases.append(f"{core.split(' ')[0]} {choice(sw['*'])}")
        aliases = [x for i, x in enumerate(aliases) if x and x not in aliases[:i] and x != legal_name]

        base, extra = SECTOR_STAGES[sector]
        stages = set(base)
        for s in extra:
            if rand() < (0.5 if base else 0.35):
                stages.add(s)
        if not stages:
            stages.add(choice(extra))
        stage_text = "|".join(s for s in STAGE_ORDER if s in stages)

        if rand() < 0.02:
            reg, vat = "", ""
        else:
            reg, vat = registration(cc, numbering[cc](j), form, r)
            if vat is None:
                vat = "PT" + reg
            if rand() < 0.15:
                vat = ""

        slug = _fold(core)[:40].strip("-") or "firma"
        domain = f"{slug}.{G['tld'][cc]}.example"
        website = f"https://www.{domain}" if rand() < 0.9 else ""
        email = f"{choice(G['mailbox'][lang])}@{domain}" if rand() < 0.85 else ""
        code, areas, (lo, hi) = PHONE[cc]
        phone = _phone(code, choice(areas), rrange(10 ** (lo - 1), 10 ** choice((lo, hi))))

        contacts = ""
        c = rand()
        if c < 0.7:
            people = []
            roles = ROLES["*"] + ROLES.get(lang, []) + SECTOR_ROLES.get(sector, [])
            for _ in range(1 if c < 0.5 else 2):
                first, last = choice(pool["first"]), choice(pool["last"])
                person = {"name": f"{first} {last}", "role": choice(roles)}
                if rand() < 0.85:
                    person["email"] = f"{_fold(first).replace('-', '')}.{_fold(last).replace('-', '')}@{domain}"
                if rand() < 0.6:
                    person["phone"] = _phone(code, choice(areas), rrange(10 ** (lo - 1), 10 ** lo))
                people.append(person)
            contacts = json.dumps(people, ensure_ascii=False, separators=(",", ":"))

        notes = ""
        if rand() < 0.3:
            notes = choice(NOTES).format(city=city, year=rrange(2019, 2027), case=f"{cc}-{rrange(2020, 2027)}-{rrange(100, 9999):04d}")

        w.writerow(("", legal_name, "|".join(aliases), sector, stage_text,
                    choices(market_v, cum_weights=market_c)[0], cc, reg, vat,
                    choice(pool["streets"]), postal, city, website, email, phone,
                    choices(status_v, cum_weights=status_c)[0], notes, contacts))
    return out.getvalue()


MAILBOX = {"*": ["info", "contact", "office", "service"], "de": ["info", "kontakt", "service", "office", "post"],
           "fr": ["contact", "info", "accueil"], "nl": ["info", "contact", "klantenservice"],
           "it": ["info", "contatti", "amministrazione"], "es": ["info", "contacto", "administracion"],
           "pl": ["biuro", "kontakt", "info"], "sv": ["info", "kontakt"], "da": ["info", "kontakt"],
           "fi": ["info", "asiakaspalvelu"], "pt": ["geral", "info"], "cs": ["info", "kontakt"], "en": ["info", "hello", "support"]}


def main():
    # some faker locales keep their word lists in sets, whose order follows
    # string hashing: fix the hash seed so that --seed alone decides the file
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable] + sys.argv)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--chunk", type=int, default=25000)
    args = ap.parse_args()
    if args.rows < 0:
        ap.error("--rows must be >= 0")
    t0 = time.monotonic()
    log = lambda msg: print(f"[gen {time.monotonic() - t0:6.1f}s] {msg}", file=sys.stderr, flush=True)

    # which rows go to which country and locale: drawn up front, so that each
    # row knows its rank within its country (for unique registration numbers)
    r = random.Random(f"{args.seed}-layout")
    ccs = list(COUNTRIES)
    countries = r.choices(ccs, weights=[COUNTRIES[c][0] for c in ccs], k=args.rows)
    profile_of = {}
    for cc in ccs:
        profs = COUNTRIES[cc][1]
        profile_of[cc] = ([p[0] for p in profs], [p[2] for p in profs])
    profiles = [profile_of[cc][0][0] if len(profile_of[cc][0]) == 1 else
                r.choices(profile_of[cc][0], weights=profile_of[cc][1])[0] for cc in countries]
    counts = {cc: 0 for cc in ccs}
    ranks = []
    for cc in countries:
        ranks.append(counts[cc])
        counts[cc] += 1

    locales = sorted({p[0] for v in COUNTRIES.values() for p in v[1]})
    lang = {p[0]: p[1] for v in COUNTRIES.values() for p in v[1]}
    jobs = max(1, args.jobs)
    log(f"drawing faker pools for {len(locales)} locales ({jobs} processes)")
    ctx = mp.get_context("fork")
    with ctx.Pool(jobs) as pool:
        pools = dict(pool.map(build_pool, [(loc, lang[loc], args.seed) for loc in locales], chunksize=1))
    by_lang = {}
    for loc in locales:  # de_DE and de_AT, nl_NL and nl_BE, fr_FR and fr_BE share their surnames
        by_lang.setdefault(lang[loc], []).append(loc)
    for group in by_lang.values():
        merged = list(dict.fromkeys(name for loc in group for name in pools[loc]["last"]))
        for loc in group:
            pools[loc]["last"] = merged
    log("pools: " + ", ".join(f"{loc} {len(p['last'])}/{len(p['company'])}/{len(p['streets'])}" for loc, p in sorted(pools.items()))
        + " (surnames/companies/streets)")

    nr = random.Random(f"{args.seed}-numbers")
    G.update(
        pools=pools, lang=lang,
        numbering={cc: Numbering(max(counts[cc], 1), REG_DIGITS[cc], nr) for cc in ccs},
        forms={k: _weighted(v) for k, v in LEGAL_FORMS.items()},
        sectors=_weighted(SECTORS), statuses=_weighted(STATUSES), markets=_weighted(MARKET_SETS),
        tld={cc: v[2] for cc, v in COUNTRIES.items()},
        mailbox={lg: MAILBOX.get(lg, MAILBOX["*"]) for lg in set(lang.values())},
    )

    tasks = []
    for chunk, start in enumerate(range(0, args.rows, args.chunk)):
        end = min(start + args.chunk, args.rows)
        tasks.append((chunk, countries[start:end], profiles[start:end], ranks[start:end], args.seed))

    out_dir = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    tmp = f"{args.out}.tmp{os.getpid()}"
    done = 0
    last_report = 0.0
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerow(HEADER)
            with ctx.Pool(jobs) as pool:
                for chunk_text, task in zip(pool.imap(make_rows, tasks, chunksize=1), tasks):
                    fh.write(chunk_text)
                    done += len(task[1])
                    now = time.monotonic()
                    if now - last_report >= 5 or done == args.rows:
                        last_report = now
                        log(f"{done}/{args.rows} rows")
        os.replace(tmp, args.out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    log(f"wrote {args.rows} rows to {args.out} ({os.path.getsize(args.out) / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
