"""Static vocabulary of the simulated territory: sectors, occupations, certifications, centres.

Codes are real (NAF rév. 2, ROME 4.0, IDCC, OPCO); certification codes (RNCP, CFD) have the
real shape and plausible values. Labels of ROME and NAF codes are read from
``reference/data`` so that the demo and the reference layer never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Sector:
    naf: str
    opco: str
    idcc: str
    weight: int  # share of employers
    romes: tuple[tuple[str, int], ...]  # (ROME, weight) of the offers this sector publishes
    trade_prefixes: tuple[str, ...]
    bands: tuple[str, ...]  # INSEE tranche d'effectifs codes this sector's employers take


@dataclass(frozen=True, slots=True)
class Occupation:
    rome: str
    titles: tuple[str, ...]
    appellation: str
    levels: tuple[int, ...]
    skills: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Certification:
    title: str
    rncp: str
    cfd: str
    level: int
    romes: tuple[str, ...]
    family: str


@dataclass(frozen=True, slots=True)
class CentreBlueprint:
    name: str
    kind: str
    insee_code: str
    families: tuple[str, ...]
    uai: str | None = None  # a real sample UAI to keep; None = generated
    erp: str | None = None  # the partner name of the centre's own ERP


# The tables below are data, aligned by hand for reading: the formatter would put each
# argument on its own line and triple their length.
# fmt: off
_SMALL = ("01", "02", "03", "11")
_MEDIUM = ("03", "11", "12", "21")
_LARGE = ("21", "22", "31", "32", "41")

SECTORS: tuple[Sector, ...] = (
    Sector("56.10A", "AKTO", "1979", 12,
           (("G1602", 3), ("G1803", 3), ("G1603", 1), ("G1601", 1)),
           ("Restaurant", "Auberge", "Bistrot", "Brasserie", "La Table"), _SMALL),
    Sector("56.10C", "AKTO", "1501", 4, (("G1603", 4), ("G1602", 1)),
           ("Snack", "Crêperie", "Pizzeria"), _SMALL),
    Sector("55.10Z", "AKTO", "1979", 8,
           (("G1703", 3), ("G1501", 2), ("G1803", 2), ("G1602", 1)),
           ("Hôtel", "Chalet-hôtel", "Résidence"), _MEDIUM),
    Sector("56.30Z", "AKTO", "1979", 2, (("G1803", 1),), ("Café", "Bar"), _SMALL),
    Sector("62.02A", "ATLAS", "1486", 5, (("M1805", 5), ("M1801", 2), ("M1810", 1)),
           ("Alpes Numérique", "Savoie Logiciels", "Digital"), _MEDIUM),
    Sector("62.01Z", "ATLAS", "1486", 4, (("M1805", 5), ("E1205", 1)),
           ("Studio", "Web Factory", "Code"), _SMALL),
    Sector("69.20Z", "ATLAS", "787", 3, (("M1203", 4), ("M1607", 1)),
           ("Cabinet", "Expertise comptable", "Audit & Conseil"), _MEDIUM),
    Sector("70.22Z", "ATLAS", "1486", 2, (("M1503", 2), ("M1705", 2), ("M1602", 1)),
           ("Conseil", "Stratégie", "Management"), _SMALL),
    Sector("64.19Z", "ATLAS", "2120", 2, (("C1206", 3),), ("Banque", "Crédit"), _LARGE),
    Sector("43.99C", "CONSTRUCTYS", "1596", 5, (("F1703", 5), ("F1201", 1)),
           ("Maçonnerie", "Bâtiment", "Constructions"), _SMALL),
    Sector("43.22A", "CONSTRUCTYS", "1596", 4, (("F1603", 5),),
           ("Plomberie", "Chauffage", "Sanitaire"), _SMALL),
    Sector("43.21A", "CONSTRUCTYS", "1596", 4, (("F1602", 5),),
           ("Électricité", "Élec", "Courant"), _SMALL),
    Sector("41.20A", "CONSTRUCTYS", "1597", 2, (("F1201", 2), ("F1703", 2), ("F1104", 1)),
           ("Maisons", "Constructeur", "Habitat"), _MEDIUM),
    Sector("43.34Z", "CONSTRUCTYS", "1596", 2, (("F1606", 3),), ("Peinture", "Décors"), _SMALL),
    Sector("43.91B", "CONSTRUCTYS", "1596", 2, (("F1610", 3),), ("Couverture", "Toitures"),
           _SMALL),
    Sector("43.32A", "CONSTRUCTYS", "1596", 2, (("F1607", 2), ("F1604", 2)),
           ("Menuiserie", "Agencement"), _SMALL),
    Sector("47.11F", "OPCOMMERCE", "2216", 3, (("D1106", 2), ("D1502", 2), ("D1507", 2)),
           ("Hypermarché",), _LARGE),
    Sector("47.11D", "OPCOMMERCE", "2216", 3, (("D1106", 3), ("D1507", 2), ("D1502", 1)),
           ("Supermarché", "Marché"), _MEDIUM),
    Sector("47.71Z", "OPCOMMERCE", "1483", 3, (("D1214", 3),), ("Boutique", "Mode"), _SMALL),
    Sector("47.64Z", "OPCOMMERCE", "1557", 3, (("D1211", 3),),
           ("Sports", "Ski Shop", "Montagne Sports"), _SMALL),
    Sector("10.71C", "OPCO_EP", "843", 4, (("D1102", 4), ("D1104", 1), ("D1106", 1)),
           ("Boulangerie", "Fournil", "Au Pain"), _SMALL),
    Sector("47.22Z", "OPCO_EP", "992", 2, (("D1101", 3),), ("Boucherie", "Charcuterie"), _SMALL),
    Sector("10.71D", "OPCO_EP", "1267", 1, (("D1104", 3),), ("Pâtisserie", "Chocolaterie"),
           _SMALL),
    Sector("47.73Z", "OPCO_EP", "1996", 2, (("J1307", 3),), ("Pharmacie",), _SMALL),
    Sector("45.20A", "OPCO_MOBILITES", "1090", 4, (("I1604", 4), ("I1606", 1)),
           ("Garage", "Auto Service", "Carrosserie"), _SMALL),
    Sector("49.41A", "OPCO_MOBILITES", "16", 1, (("N4101", 2), ("N1103", 1)),
           ("Transports",), _MEDIUM),
    Sector("52.10B", "OPCO_MOBILITES", "16", 2, (("N1103", 3),), ("Logistique", "Entrepôts"),
           _MEDIUM),
    Sector("25.62B", "OPCO2I", "3248", 3,
           (("H2903", 2), ("H2909", 2), ("H2913", 1), ("I1310", 1)),
           ("Décolletage", "Mécanique de précision", "Usinage"), _MEDIUM),
    Sector("28.41Z", "OPCO2I", "3248", 1, (("H2909", 2), ("H1203", 1), ("I1304", 1)),
           ("Machines", "Industries"), _LARGE),
    Sector("81.21Z", "AKTO", "3043", 2, (("K2204", 3),), ("Propreté", "Net Services"), _MEDIUM),
    Sector("86.10Z", "OPCO_SANTE", "2264", 2, (("J1501", 3), ("M1607", 1)),
           ("Clinique", "Centre médical"), _LARGE),
    Sector("87.10A", "OPCO_SANTE", "2264", 2, (("J1501", 3), ("K1302", 1)),
           ("Résidence seniors", "Ehpad"), _MEDIUM),
    Sector("81.30Z", "OCAPIAT", "7018", 2, (("A1203", 3),), ("Paysages", "Jardins"), _SMALL),
    Sector("88.91A", "UNIFORMATION", "1261", 1, (("K1303", 3),), ("Crèche", "Les P'tits"),
           _SMALL),
    Sector("73.11Z", "AFDAS", "86", 1, (("E1205", 2), ("M1705", 1), ("D1401", 1)),
           ("Agence", "Communication"), _SMALL),
)

PLACE_SUFFIXES = (
    "du Lac", "des Alpes", "de la Vanoise", "du Mont-Blanc", "des Aravis", "du Semnoz",
    "des Bauges", "du Revard", "de la Tournette", "du Salève", "du Chablais", "de Belledonne",
    "de la Chartreuse", "du Centre", "de la Gare", "des Glaciers", "du Léman", "de l'Arve",
)

_HCR_SKILLS = ("Respect des règles d'hygiène (HACCP)", "Travail en équipe", "Sens du service")
_IT_SKILLS = ("Développement web", "Bases de données", "Travail en mode agile")
_OFFICE_SKILLS = ("Maîtrise des outils bureautiques", "Rigueur", "Sens de l'organisation")
_BTP_SKILLS = ("Lecture de plans", "Respect des règles de sécurité", "Travail en équipe")
_SALES_SKILLS = ("Accueil de la clientèle", "Sens commercial", "Tenue de caisse")
_FOOD_SKILLS = ("Respect des règles d'hygiène", "Travail de nuit ou tôt le matin", "Dextérité")
_TECH_SKILLS = ("Lecture de plans", "Diagnostic de pannes", "Respect des consignes de sécurité")
_CARE_SKILLS = ("Écoute et bienveillance", "Règles d'hygiène", "Travail en équipe")

OCCUPATIONS: tuple[Occupation, ...] = (
    Occupation("G1602", ("Apprenti(e) cuisinier(ère)", "Commis de cuisine en apprentissage H/F",
                         "Apprenti cuisinier H/F - CAP Cuisine", "Cuisinier(ère) en alternance"),
               "Cuisinier / Cuisinière", (3, 3, 4), _HCR_SKILLS),
    Occupation("G1603", ("Apprenti(e) employé(e) polyvalent(e) de restauration",
                         "Équipier polyvalent en alternance H/F"),
               "Employé / Employée polyvalent(e) de restauration", (3,), _HCR_SKILLS),
    Occupation("G1803", ("Apprenti(e) serveur(se)", "Commis de salle en alternance H/F",
                         "Apprenti(e) chef de rang"),
               "Serveur / Serveuse en restauration", (3, 4), _HCR_SKILLS),
    Occupation("G1601", ("Second de cuisine en alternance H/F",),
               "Second / Seconde de cuisine", (4, 5), _HCR_SKILLS),
    Occupation("G1703", ("Réceptionniste en alternance H/F",
                         "Apprenti(e) réceptionniste d'hôtel"),
               "Réceptionniste en hôtellerie", (4, 5), _HCR_SKILLS),
    Occupation("G1501", ("Apprenti(e) valet / femme de chambre",
                         "Employé(e) d'étage en alternance"),
               "Employé / Employée d'étage en hôtellerie", (3,), _HCR_SKILLS),
    Occupation("M1805", ("Alternant développeur web H/F", "Apprenti(e) développeur(se) full stack",
                         "Développeur logiciel en alternance H/F"),
               "Développeur / Développeuse web", (5, 6, 7), _IT_SKILLS),
    Occupation("M1801", ("Alternant administrateur systèmes et réseaux H/F",
                         "Apprenti(e) technicien(ne) réseaux"),
               "Administrateur / Administratrice systèmes et réseaux", (5, 6), _IT_SKILLS),
    Occupation("M1810", ("Technicien(ne) support informatique en alternance",),
               "Technicien / Technicienne support informatique", (4, 5), _IT_SKILLS),
    Occupation("M1203", ("Assistant(e) comptable en alternance", "Apprenti(e) comptable H/F"),
               "Assistant / Assistante comptable", (5, 6), _OFFICE_SKILLS),
    Occupation("M1607", ("Assistant(e) administratif(ve) en alternance",
                         "Secrétaire en apprentissage H/F"),
               "Secrétaire", (4, 5), _OFFICE_SKILLS),
    Occupation("M1503", ("Chargé(e) de ressources humaines en alternance",),
               "Chargé / Chargée des ressources humaines", (6, 7), _OFFICE_SKILLS),
    Occupation("M1705", ("Chargé(e) de marketing digital en alternance",
                         "Alternant chef de projet marketing H/F"),
               "Chargé / Chargée de marketing", (5, 6, 7), _OFFICE_SKILLS),
    Occupation("M1602", ("Employé(e) administratif(ve) en alternance",),
               "Employé administratif / Employée administrative", (3, 4), _OFFICE_SKILLS),
    Occupation("C1206", ("Conseiller(ère) clientèle bancaire en alternance",),
               "Conseiller / Conseillère clientèle bancaire", (5, 6), _SALES_SKILLS),
    Occupation("F1703", ("Apprenti(e) maçon(ne)", "Maçon en alternance H/F"),
               "Maçon / Maçonne", (3, 4), _BTP_SKILLS),
    Occupation("F1603", ("Apprenti(e) plombier(ère) chauffagiste",
                         "Installateur sanitaire en alternance H/F"),
               "Plombier chauffagiste / Plombière chauffagiste", (3, 4), _BTP_SKILLS),
    Occupation("F1602", ("Apprenti(e) électricien(ne) bâtiment", "Électricien en alternance H/F"),
               "Électricien / Électricienne du bâtiment", (3, 4), _BTP_SKILLS),
    Occupation("F1201", ("Conducteur de travaux en alternance H/F",
                         "Alternant(e) assistant(e) conducteur de travaux"),
               "Conducteur / Conductrice de travaux", (5, 6, 7), _BTP_SKILLS),
    Occupation("F1104", ("Dessinateur(trice) projeteur(se) BTP en alternance",),
               "Dessinateur / Dessinatrice en bâtiment", (4, 5), _BTP_SKILLS),
    Occupation("F1606", ("Apprenti(e) peintre en bâtiment",),
               "Peintre en bâtiment", (3,), _BTP_SKILLS),
    Occupation("F1610", ("Apprenti(e) couvreur(se)", "Couvreur zingueur en alternance H/F"),
               "Couvreur / Couvreuse", (3, 4), _BTP_SKILLS),
    Occupation("F1607", ("Apprenti(e) menuisier(ère) poseur(se)",),
               "Menuisier poseur / Menuisière poseuse", (3, 4), _BTP_SKILLS),
    Occupation("F1604", ("Apprenti(e) agenceur(se)",),
               "Monteur / Monteuse en agencement", (3, 4), _BTP_SKILLS),
    Occupation("D1106", ("Apprenti(e) vendeur(se) en alimentation",
                         "Employé(e) de commerce en alternance H/F"),
               "Vendeur / Vendeuse en alimentation", (3, 4), _SALES_SKILLS),
    Occupation("D1214", ("Apprenti(e) vendeur(se) prêt-à-porter",
                         "Conseiller(ère) de vente en alternance"),
               "Vendeur / Vendeuse en prêt-à-porter", (4, 5), _SALES_SKILLS),
    Occupation("D1502", ("Manager de rayon en alternance H/F",
                         "Alternant(e) adjoint(e) chef de rayon"),
               "Manager / Manageuse de rayon", (5, 6), _SALES_SKILLS),
    Occupation("D1507", ("Employé(e) de mise en rayon en alternance",),
               "Employé / Employée de libre-service", (3,), _SALES_SKILLS),
    Occupation("D1211", ("Vendeur(se) articles de sport en alternance",
                         "Apprenti(e) vendeur(se) skis et matériel de montagne"),
               "Vendeur / Vendeuse en articles de sport", (4, 5), _SALES_SKILLS),
    Occupation("D1102", ("Apprenti(e) boulanger(ère)", "Boulanger en apprentissage H/F"),
               "Boulanger / Boulangère", (3, 4), _FOOD_SKILLS),
    Occupation("D1101", ("Apprenti(e) boucher(ère)",), "Boucher / Bouchère", (3, 4), _FOOD_SKILLS),
    Occupation("D1104", ("Apprenti(e) pâtissier(ère)", "Pâtissier en apprentissage H/F"),
               "Pâtissier / Pâtissière", (3, 4), _FOOD_SKILLS),
    Occupation("J1307", ("Apprenti(e) préparateur(trice) en pharmacie",),
               "Préparateur / Préparatrice en pharmacie", (5,), _CARE_SKILLS),
    Occupation("I1604", ("Apprenti(e) mécanicien(ne) automobile",
                         "Mécanicien auto en alternance H/F"),
               "Mécanicien / Mécanicienne automobile", (3, 4), _TECH_SKILLS),
    Occupation("I1606", ("Apprenti(e) carrossier(ère)",),
               "Carrossier / Carrossière", (3, 4), _TECH_SKILLS),
    Occupation("N4101", ("Conducteur(trice) poids lourd en alternance",),
               "Conducteur / Conductrice de poids lourd", (3,), _TECH_SKILLS),
    Occupation("N1103", ("Préparateur(trice) de commandes en alternance",
                         "Agent(e) logistique en apprentissage"),
               "Préparateur / Préparatrice de commandes", (3, 5), _TECH_SKILLS),
    Occupation("H2903", ("Apprenti(e) décolleteur(se)",
                         "Opérateur(trice) sur machine à commande numérique en alternance"),
               "Décolleteur / Décolleteuse", (4, 5), _TECH_SKILLS),
    Occupation("H2909", ("Monteur(se) assembleur(se) en alternance",),
               "Monteur / Monteuse en mécanique", (3, 4), _TECH_SKILLS),
    Occupation("H2913", ("Apprenti(e) soudeur(se)",), "Soudeur / Soudeuse", (3, 4), _TECH_SKILLS),
    Occupation("H1203", ("Dessinateur(trice) industriel(le) en alternance",),
               "Dessinateur / Dessinatrice industriel(le)", (5, 6), _TECH_SKILLS),
    Occupation("I1310", ("Technicien(ne) de maintenance industrielle en alternance",),
               "Technicien / Technicienne de maintenance industrielle", (4, 5), _TECH_SKILLS),
    Occupation("I1304", ("Apprenti(e) technicien(ne) de maintenance",),
               "Technicien / Technicienne de maintenance", (4, 5), _TECH_SKILLS),
    Occupation("K2204", ("Agent(e) de propreté en alternance",),
               "Agent / Agente de propreté", (3,), _CARE_SKILLS),
    Occupation("J1501", ("Aide-soignant(e) en apprentissage",),
               "Aide-soignant / Aide-soignante", (4,), _CARE_SKILLS),
    Occupation("K1302", ("Accompagnant(e) éducatif(ve) et social(e) en alternance",),
               "Accompagnant éducatif et social / Accompagnante éducative et sociale", (3,),
               _CARE_SKILLS),
    Occupation("K1303", ("Apprenti(e) auxiliaire de puériculture",
                         "Accompagnant(e) éducatif(ve) petite enfance en alternance"),
               "Auxiliaire de puériculture", (3, 4), _CARE_SKILLS),
    Occupation("A1203", ("Apprenti(e) paysagiste", "Jardinier paysagiste en alternance H/F"),
               "Jardinier / Jardinière paysagiste", (3, 4), _BTP_SKILLS),
    Occupation("E1205", ("Alternant(e) webdesigner / graphiste",),
               "Webdesigner", (5, 6), _IT_SKILLS),
    Occupation("D1401", ("Assistant(e) commercial(e) en alternance",),
               "Assistant / Assistante commercial(e)", (5,), _SALES_SKILLS),
)

_C = Certification
CERTIFICATIONS: tuple[Certification, ...] = (
    _C("CAP Cuisine", "RNCP37859", "50022135", 3, ("G1602",), "HCR"),
    _C("CAP Commercialisation et services en hôtel-café-restaurant", "RNCP37861", "50033436",
       3, ("G1803", "G1501", "G1603"), "HCR"),
    _C("CAP Production et service en restaurations", "RNCP35296", "50033439", 3, ("G1603",),
       "HCR"),
    _C("BP Arts de la cuisine", "RNCP30314", "45022104", 4, ("G1602", "G1601"), "HCR"),
    _C("Bac pro Cuisine", "RNCP37858", "40022108", 4, ("G1602",), "HCR"),
    _C("Bac pro Commercialisation et services en restauration", "RNCP37860", "40033404", 4,
       ("G1803",), "HCR"),
    _C("Mention complémentaire Cuisinier en desserts de restaurant", "RNCP5247", "01022104", 3,
       ("G1602",), "HCR"),
    _C("BTS Management en hôtellerie-restauration", "RNCP35381", "32033423", 5,
       ("G1703", "G1601", "G1803"), "HCR"),
    _C("BTS Services informatiques aux organisations", "RNCP35340", "32032617", 5,
       ("M1805", "M1801", "M1810"), "IT"),
    _C("Titre professionnel Développeur web et web mobile", "RNCP37674", "46T32603", 5,
       ("M1805",), "IT"),
    _C("Titre professionnel Concepteur développeur d'applications", "RNCP37873", "36T32601", 6,
       ("M1805",), "IT"),
    _C("BUT Informatique", "RNCP35475", "25032670", 6, ("M1805", "M1801"), "IT"),
    _C("Master Informatique", "RNCP39025", "13532675", 7, ("M1805",), "IT"),
    _C("Titre professionnel Technicien supérieur systèmes et réseaux", "RNCP36629", "46T32602",
       5, ("M1801", "M1810"), "IT"),
    _C("Titre professionnel Administrateur d'infrastructures sécurisées", "RNCP37680",
       "36T32604", 6, ("M1801",), "IT"),
    _C("BTS Communication", "RNCP38427", "32032011", 5, ("E1205", "M1705"), "IT"),
    _C("BTS Comptabilité et gestion", "RNCP38329", "32031409", 5, ("M1203",), "MGMT"),
    _C("Diplôme de comptabilité et de gestion (DCG)", "RNCP35524", "26031404", 6, ("M1203",),
       "MGMT"),
    _C("BTS Support à l'action managériale", "RNCP34029", "32032407", 5, ("M1607", "M1602"),
       "MGMT"),
    _C("Bac pro Assistance à la gestion des organisations et de leurs activités", "RNCP37950",
       "40032412", 4, ("M1602", "M1607"), "MGMT"),
    _C("Licence professionnelle Métiers de la gestion des ressources humaines", "RNCP30058",
       "25031509", 6, ("M1503",), "MGMT"),
    _C("Master Marketing, vente", "RNCP34035", "13531211", 7, ("M1705",), "MGMT"),
    _C("BTS Banque, conseiller de clientèle (particuliers)", "RNCP35691", "32031308", 5,
       ("C1206",), "MGMT"),
    _C("Bachelor Responsable du développement commercial", "RNCP34496", "26X31209", 6,
       ("M1705", "D1401"), "MGMT"),
    _C("CAP Maçon", "RNCP34985", "50023216", 3, ("F1703",), "BTP"),
    _C("BP Maçon", "RNCP35000", "45023202", 4, ("F1703",), "BTP"),
    _C("CAP Monteur en installations sanitaires", "RNCP34993", "50023345", 3, ("F1603",), "BTP"),
    _C("BP Monteur en installations du génie climatique et sanitaire", "RNCP35005", "45023327",
       4, ("F1603",), "BTP"),
    _C("CAP Électricien", "RNCP36140", "50025420", 3, ("F1602",), "BTP"),
    _C("BP Électricien", "RNCP36145", "45025519", 4, ("F1602",), "BTP"),
    _C("BTS Bâtiment", "RNCP35421", "32023213", 5, ("F1201",), "BTP"),
    _C("Diplôme d'ingénieur spécialité génie civil", "RNCP36120", "17023201", 7, ("F1201",),
       "BTP"),
    _C("CAP Peintre applicateur de revêtements", "RNCP34986", "50023344", 3, ("F1606",), "BTP"),
    _C("CAP Couvreur", "RNCP34988", "50023220", 3, ("F1610",), "BTP"),
    _C("CAP Menuisier installateur", "RNCP34990", "50023414", 3, ("F1607", "F1604"), "BTP"),
    _C("Bac pro Technicien d'études du bâtiment option A", "RNCP35557", "40023302", 4,
       ("F1104",), "BTP"),
    _C("CAP Équipier polyvalent du commerce", "RNCP34947", "50031218", 3, ("D1106", "D1507"),
       "COMMERCE"),
    _C("Bac pro Métiers du commerce et de la vente option A", "RNCP32208", "40031213", 4,
       ("D1214", "D1106", "D1211"), "COMMERCE"),
    _C("BTS Management commercial opérationnel", "RNCP38362", "32031213", 5,
       ("D1502", "D1214"), "COMMERCE"),
    _C("BTS Négociation et digitalisation de la relation client", "RNCP38368", "32031212", 5,
       ("D1401", "D1211"), "COMMERCE"),
    _C("Titre professionnel Vendeur-conseil en magasin", "RNCP37098", "46T31201", 4,
       ("D1214", "D1211"), "COMMERCE"),
    _C("CAP Boulanger", "RNCP37566", "50022114", 3, ("D1102",), "FOOD"),
    _C("BP Boulanger", "RNCP35480", "45022101", 4, ("D1102",), "FOOD"),
    _C("CAP Pâtissier", "RNCP37556", "50022141", 3, ("D1104",), "FOOD"),
    _C("CAP Boucher", "RNCP37517", "50022107", 3, ("D1101",), "FOOD"),
    _C("DEUST Préparateur-technicien en pharmacie", "RNCP38440", "35033107", 5, ("J1307",),
       "HEALTH"),
    _C("CAP Maintenance des véhicules option voitures particulières", "RNCP37488", "50025216",
       3, ("I1604",), "AUTO"),
    _C("Bac pro Maintenance des véhicules option voitures particulières", "RNCP37508",
       "40025214", 4, ("I1604",), "AUTO"),
    _C("CAP Carrosserie", "RNCP34857", "50025445", 3, ("I1606",), "AUTO"),
    _C("BTS Maintenance des véhicules option voitures particulières", "RNCP35887", "32025209",
       5, ("I1604",), "AUTO"),
    _C("Bac pro Technicien en réalisation de produits mécaniques", "RNCP35602", "40025107", 4,
       ("H2903", "H2909"), "INDUS"),
    _C("BTS Conception des processus de réalisation de produits", "RNCP35353", "32025106", 5,
       ("H2903", "H1203"), "INDUS"),
    _C("CAP Réalisations industrielles en chaudronnerie ou soudage", "RNCP35387", "50025446",
       3, ("H2913",), "INDUS"),
    _C("BTS Maintenance des systèmes option systèmes de production", "RNCP35323", "32025008",
       5, ("I1310", "I1304"), "INDUS"),
    _C("BUT Génie mécanique et productique", "RNCP35454", "25025012", 6, ("H1203", "I1310"),
       "INDUS"),
    _C("Titre professionnel Conducteur du transport routier de marchandises sur porteur",
       "RNCP35015", "46T31103", 3, ("N4101",), "TRANSPORT"),
    _C("Titre professionnel Agent magasinier", "RNCP35810", "46T31104", 3, ("N1103",),
       "TRANSPORT"),
    _C("BTS Gestion des transports et logistique associée", "RNCP35371", "32031103", 5,
       ("N1103",), "TRANSPORT"),
    _C("Diplôme d'État d'aide-soignant", "RNCP35830", "46T33002", 4, ("J1501",), "HEALTH"),
    _C("Diplôme d'État d'accompagnant éducatif et social", "RNCP36004", "46T33206", 3,
       ("K1302",), "HEALTH"),
    _C("CAP Accompagnant éducatif petite enfance", "RNCP38565", "50033225", 3, ("K1303",),
       "HEALTH"),
    _C("Diplôme d'État d'auxiliaire de puériculture", "RNCP35832", "46T33003", 4, ("K1303",),
       "HEALTH"),
    _C("Titre professionnel Agent de propreté et d'hygiène", "RNCP34708", "46T34301", 3,
       ("K2204",), "CLEAN"),
    _C("CAPa Jardinier paysagiste", "RNCP28209", "50321404", 3, ("A1203",), "AGRI"),
    _C("Bac pro Aménagements paysagers", "RNCP38473", "40321402", 4, ("A1203",), "AGRI"),
    _C("BTSA Aménagements paysagers", "RNCP38470", "32321402", 5, ("A1203",), "AGRI"),
)

# Levels each kind of centre teaches.
KIND_LEVELS: dict[str, tuple[int, int]] = {
    "CFA": (3, 7),
    "CFA d'entreprise": (3, 5),
    "Lycée professionnel": (3, 5),
    "Université": (5, 7),
}

_B = CentreBlueprint
CENTRES: tuple[CentreBlueprint, ...] = (
    _B("BTP CFA Savoie", "CFA", "73065", ("BTP",), erp="cfa-btp"),
    _B("CFA interprofessionnel de Chambéry", "CFA", "73065", ("COMMERCE", "FOOD", "AUTO"),
       uai="0731549M"),
    _B("Lycée professionnel hôtelier de Challes-les-Eaux", "Lycée professionnel", "73064",
       ("HCR",)),
    _B("CFA universitaire Savoie Mont Blanc", "Université", "73051", ("IT", "MGMT", "BTP")),
    _B("CFA Commerce et services d'Aix-les-Bains", "CFA", "73008", ("COMMERCE", "MGMT")),
    _B("Lycée professionnel de Maurienne", "Lycée professionnel", "73248", ("INDUS", "AUTO")),
    _B("CFA des métiers de la montagne", "CFA", "73011", ("HCR", "COMMERCE")),
    _B("CFA hôtelier de Tarentaise", "CFA", "73181", ("HCR",)),
    _B("CFA agricole et paysager de Savoie", "CFA", "73179", ("AGRI",)),
    _B("CFA sanitaire et social de Savoie", "CFA", "73065", ("HEALTH", "CLEAN")),
    _B("CFA Industrie Savoie", "CFA", "73303", ("INDUS",)),
    _B("CFA Transport et logistique de Savoie", "CFA", "73171", ("TRANSPORT",)),
    _B("Lycée professionnel des métiers du bâtiment de Bassens", "Lycée professionnel",
       "73031", ("BTP",)),
    _B("CFA du numérique de Savoie", "CFA", "73065", ("IT",)),
    _B("CFA d'entreprise de la distribution alpine", "CFA d'entreprise", "73213",
       ("COMMERCE",)),
    _B("Lycée professionnel de Haute-Tarentaise", "Lycée professionnel", "73054",
       ("HCR", "COMMERCE")),
    _B("CFA comptabilité et gestion des Savoie", "CFA", "73087", ("MGMT",)),
    _B("Lycée professionnel d'Albertville", "Lycée professionnel", "73011", ("AUTO", "INDUS")),
    _B("École supérieure de commerce de Chambéry — campus alternance", "CFA", "73065",
       ("MGMT",)),
    _B("CFA Hôtellerie-Restauration de Haute-Savoie", "CFA", "74281", ("HCR",),
       erp="cfa-hotellerie"),
    _B("CFA des métiers de Haute-Savoie", "CFA", "74010", ("FOOD", "COMMERCE", "AUTO"),
       uai="0741451A"),
    _B("BTP CFA Haute-Savoie", "CFA", "74224", ("BTP",)),
    _B("Lycée professionnel du décolletage de Cluses", "Lycée professionnel", "74081",
       ("INDUS",)),
    _B("CFA Industrie Haute-Savoie", "CFA", "74278", ("INDUS",)),
    _B("IUT d'Annecy — Université Savoie Mont Blanc", "Université", "74010",
       ("IT", "MGMT", "INDUS")),
    _B("Lycée hôtelier du Mont-Blanc", "Lycée professionnel", "74056", ("HCR",)),
    _B("CFA Commerce du Genevois haut-savoyard", "CFA", "74012", ("COMMERCE",)),
    _B("Lycée professionnel de Sallanches", "Lycée professionnel", "74256",
       ("HCR", "COMMERCE")),
    _B("CFA sanitaire et social de Haute-Savoie", "CFA", "74010", ("HEALTH",)),
    _B("CFA agricole de Poisy", "CFA", "74213", ("AGRI",)),
    _B("CFA du numérique du Genevois", "CFA", "74243", ("IT",)),
    _B("Lycée professionnel de Rumilly", "Lycée professionnel", "74225", ("INDUS", "COMMERCE")),
    _B("CFA Transport et logistique de Haute-Savoie", "CFA", "74042", ("TRANSPORT",)),
    _B("CFA d'entreprise de la mécanique de précision", "CFA d'entreprise", "74264",
       ("INDUS",)),
    _B("Lycée professionnel d'Évian", "Lycée professionnel", "74119", ("HCR",)),
    _B("École d'ingénieurs en alternance des Savoie", "Université", "74010", ("IT", "BTP")),
    _B("Lycée professionnel du Chablais", "Lycée professionnel", "74281", ("BTP",)),
    _B("CFA de la propreté et des services", "CFA", "74012", ("CLEAN", "HEALTH")),
    _B("Lycée professionnel automobile du pays du Mont-Blanc", "Lycée professionnel", "74208",
       ("AUTO",)),
    _B("CFA Banque et gestion des Savoie", "CFA", "74010", ("MGMT",)),
)

# (word in the label, Sirene's typeVoie code)
STREET_TYPES: tuple[tuple[str, str], ...] = (
    ("rue", "RUE"), ("avenue", "AV"), ("boulevard", "BD"), ("chemin", "CHE"), ("route", "RTE"),
    ("place", "PL"), ("impasse", "IMP"), ("allée", "ALL"), ("quai", "QUAI"),
)
STREET_NAMES: tuple[str, ...] = (
    "de la République", "Jean Jaurès", "des Écoles", "du Lac", "de la Gare", "du Mont-Blanc",
    "de Savoie", "Victor Hugo", "des Alpes", "du Stade", "de l'Industrie", "des Artisans",
    "de la Mairie", "Pasteur", "du Général de Gaulle", "de Genève", "des Vignes", "du Château",
    "de la Paix", "des Tilleuls", "du Parc", "des Marronniers", "de la Fontaine", "du Moulin",
    "des Fleurs", "du Pré", "de l'Église", "des Cerisiers", "du Commerce", "de la Poste",
)
# fmt: on
